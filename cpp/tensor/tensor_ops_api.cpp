// The tensor ops of the JS API: enough arithmetic, reductions and reshaping to write tests and small
// scripts. The heavy lifting of the product lives in the C++ models and optimizers, not here.
#include <type_traits>

#include "core/api_tables.h"
#include "core/errors.h"
#include "tensor/tensor_spec.h"

namespace moonlight::tensor {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

using IntList = std::vector<int64_t>;

const Parameter kInput{"input", Kind::Tensor};
const Parameter kOther{"other", Kind::Tensor};
const Parameter kDim{"dim", Kind::Data};
const Parameter kKeepdim{"keepdim", Kind::Data};

Function unary(const char* name, at::Tensor (*op)(const at::Tensor&)) {
  return {name, {kInput}, [op](const Arguments& a) -> Result { return op(a.tensor(0)); }};
}

// The second operand is a tensor (broadcast by libtorch's rules) or a number; `op` takes either.
template <typename Op>
Function binary(const char* name, Op op) {
  return {name, {kInput, {"other", Kind::TensorOrNumber}}, [op](const Arguments& a) -> Result {
            if (a.isTensor(1)) return op(a.tensor(0), a.tensor(1));
            return op(a.tensor(0), at::Scalar(a.get<double>(1)));
          }};
}

// sum / mean(input, dims | null, keepdim)
Function reduction(const char* name, bool mean) {
  return {name, {kInput, kDim, kKeepdim}, [mean](const Arguments& a) -> Result {
            const std::optional<IntList> dims = a.get<std::optional<IntList>>(1);
            const bool keepdim = a.get<std::optional<bool>>(2).value_or(false);
            const at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
            return mean ? at::mean(a.tensor(0), dimRef, keepdim) : at::sum(a.tensor(0), dimRef, keepdim);
          }};
}

// max / min(input) → the extreme; max / min(input, dim, keepdim) → [values, indices]
Function extreme(const char* name, bool max) {
  return {name, {kInput, kDim, kKeepdim}, [max](const Arguments& a) -> Result {
            const at::Tensor& input = a.tensor(0);
            const std::optional<int64_t> dim = a.get<std::optional<int64_t>>(1);
            if (!dim) return max ? at::max(input) : at::min(input);
            const bool keepdim = a.get<std::optional<bool>>(2).value_or(false);
            auto [values, indices] = max ? at::max(input, *dim, keepdim) : at::min(input, *dim, keepdim);
            return std::vector<at::Tensor>{values, indices};
          }};
}

// An op of the input and one data argument read as T.
template <typename T, typename Op>
Function withArgument(const char* name, Parameter parameter, Op op) {
  return {name, {kInput, parameter}, [op](const Arguments& a) -> Result { return op(a.tensor(0), a.get<T>(1)); }};
}

template <typename Op>
Function join(const char* name, Op op) {
  return {name, {{"tensors", Kind::TensorList}, kDim},
          [op](const Arguments& a) -> Result { return op(a.tensors(0), a.get<int64_t>(1)); }};
}

// slice(input, dim, start | null, end | null, step)
Result slice(const Arguments& a) {
  const int64_t step = a.get<std::optional<int64_t>>(4).value_or(1);
  if (step < 1) fail(ErrorKind::Argument, "step must be a positive integer");
  return a.tensor(0).slice(a.get<int64_t>(1), a.get<std::optional<int64_t>>(2), a.get<std::optional<int64_t>>(3), step);
}

// allclose(a, b, rtol, atol, equalNan): libtorch's |a − b| ≤ atol + rtol·|b|
Result allclose(const Arguments& a) {
  return Json(at::allclose(a.tensor(0), a.tensor(1), a.get<double>(2), a.get<double>(3), a.get<bool>(4)));
}

// to(input, {dtype?, device?}): a converted copy, or the same storage when nothing changes (as torch does).
Result convertTo(const Arguments& a) {
  const at::Tensor& input = a.tensor(0);
  const ConversionTarget target = a.options<ConversionTarget>(1);
  return input.to(at::TensorOptions()
                      .dtype(target.dtype.value_or(input.scalar_type()))
                      .device(target.device.value_or(input.device())));
}

}  // namespace

const FunctionTable& tensorOps() {
  static const FunctionTable table = {
      binary("add", [](const at::Tensor& x, const auto& y) { return at::add(x, y); }),
      binary("sub", [](const at::Tensor& x, const auto& y) { return at::sub(x, y); }),
      binary("mul", [](const at::Tensor& x, const auto& y) { return at::mul(x, y); }),
      binary("div", [](const at::Tensor& x, const auto& y) { return at::div(x, y); }),
      binary("pow", [](const at::Tensor& x, const auto& y) { return at::pow(x, y); }),
      binary("maximum",
             [](const at::Tensor& x, const auto& y) {
               if constexpr (std::is_same_v<std::decay_t<decltype(y)>, at::Tensor>) return at::maximum(x, y);
               else return at::clamp_min(x, y);
             }),
      unary("neg", [](const at::Tensor& x) { return at::neg(x); }),
      unary("exp", [](const at::Tensor& x) { return at::exp(x); }),
      unary("log", [](const at::Tensor& x) { return at::log(x); }),
      unary("sqrt", [](const at::Tensor& x) { return at::sqrt(x); }),
      unary("abs", [](const at::Tensor& x) { return at::abs(x); }),
      unary("relu", [](const at::Tensor& x) { return at::relu(x); }),
      unary("sigmoid", [](const at::Tensor& x) { return at::sigmoid(x); }),
      unary("tanh", [](const at::Tensor& x) { return at::tanh(x); }),
      unary("clone", [](const at::Tensor& x) { return x.clone(); }),
      unary("detach", [](const at::Tensor& x) { return x.detach(); }),
      unary("contiguous", [](const at::Tensor& x) { return x.contiguous(); }),
      {"matmul", {kInput, kOther}, [](const Arguments& a) -> Result { return at::matmul(a.tensor(0), a.tensor(1)); }},
      reduction("sum", false),
      reduction("mean", true),
      extreme("max", true),
      extreme("min", false),
      {"argmax", {kInput, kDim, kKeepdim}, [](const Arguments& a) -> Result {
         return at::argmax(a.tensor(0), a.get<std::optional<int64_t>>(1), a.get<std::optional<bool>>(2).value_or(false));
       }},
      withArgument<IntList>("reshape", {"shape", Kind::Data}, [](const at::Tensor& x, const IntList& s) { return x.reshape(s); }),
      withArgument<IntList>("view", {"shape", Kind::Data}, [](const at::Tensor& x, const IntList& s) { return x.view(s); }),
      {"transpose", {kInput, {"dim0", Kind::Data}, {"dim1", Kind::Data}}, [](const Arguments& a) -> Result {
         return a.tensor(0).transpose(a.get<int64_t>(1), a.get<int64_t>(2));
       }},
      withArgument<IntList>("permute", {"dims", Kind::Data}, [](const at::Tensor& x, const IntList& d) { return x.permute(d); }),
      withArgument<int64_t>("unsqueeze", kDim, [](const at::Tensor& x, int64_t dim) { return x.unsqueeze(dim); }),
      withArgument<std::optional<int64_t>>("squeeze", kDim, [](const at::Tensor& x, std::optional<int64_t> dim) {
        return dim ? x.squeeze(*dim) : x.squeeze();
      }),
      {"slice", {kInput, kDim, {"start", Kind::Data}, {"end", Kind::Data}, {"step", Kind::Data}}, slice},
      {"indexSelect", {kInput, kDim, {"index", Kind::Tensor}}, [](const Arguments& a) -> Result {
         return a.tensor(0).index_select(a.get<int64_t>(1), a.tensor(2));
       }},
      join("cat", [](const std::vector<at::Tensor>& tensors, int64_t dim) { return at::cat(tensors, dim); }),
      join("stack", [](const std::vector<at::Tensor>& tensors, int64_t dim) { return at::stack(tensors, dim); }),
      withArgument<int64_t>("softmax", kDim, [](const at::Tensor& x, int64_t dim) { return at::softmax(x, dim); }),
      withArgument<int64_t>("logSoftmax", kDim, [](const at::Tensor& x, int64_t dim) { return at::log_softmax(x, dim); }),
      {"allclose", {kInput, kOther, {"rtol", Kind::Data}, {"atol", Kind::Data}, {"equalNan", Kind::Data}}, allclose},
      {"equal", {kInput, kOther}, [](const Arguments& a) -> Result { return Json(at::equal(a.tensor(0), a.tensor(1))); }},
      {"to", {kInput, {"options", Kind::Data}}, convertTo},
      // Promise forms of the ops that can take long; the job holds its own references to the inputs, so
      // JS disposing them meanwhile frees nothing it reads.
      {"matmulAsync", {kInput, kOther}, nullptr, [](const Arguments& a) -> Job {
         return [input = a.tensor(0), other = a.tensor(1)]() -> Result { return at::matmul(input, other); };
       }},
  };
  return table;
}

}  // namespace moonlight::tensor
