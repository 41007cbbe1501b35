// Tensor op bindings: enough arithmetic, reductions and reshaping to write tests and small scripts.
// The heavy lifting of the product lives in the C++ models and optimizers, not here.
#include <ATen/ATen.h>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

const at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return TensorHandle::unwrap(argumentAt(info, index), name);
}

using UnaryOp = at::Tensor (*)(const at::Tensor&);

template <UnaryOp Op>
Napi::Value unary(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return TensorHandle::wrap(info.Env(), Op(tensorArg(info, 0, "input")));
  });
}

// A binary op's second operand is a tensor (broadcast by libtorch's rules) or a JS number.
template <typename Op>
Napi::Value binary(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& left = tensorArg(info, 0, "input");
    Napi::Value right = argumentAt(info, 1);
    if (right.IsNumber()) return TensorHandle::wrap(info.Env(), Op::scalar(left, right.As<Napi::Number>().DoubleValue()));
    return TensorHandle::wrap(info.Env(), Op::tensor(left, TensorHandle::unwrap(right, "other")));
  });
}

struct Add {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) { return at::add(a, b); }
};
struct Sub {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) { return at::sub(a, b); }
};
struct Mul {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) { return at::mul(a, b); }
};
struct Div {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) { return at::div(a, b); }
};
struct Pow {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) { return at::pow(a, b); }
};
struct Maximum {
  static at::Tensor tensor(const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }
  static at::Tensor scalar(const at::Tensor& a, const at::Scalar& b) {
    return at::clamp_min(a, b);
  }
};

Napi::Value matmul(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return TensorHandle::wrap(info.Env(), at::matmul(tensorArg(info, 0, "input"), tensorArg(info, 1, "other")));
  });
}

// sum/mean(input, dims | null, keepdim)
template <bool Mean>
Napi::Value reduce(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    Napi::Value dimsValue = argumentAt(info, 1);
    bool keepdim = argumentAt(info, 2).IsUndefined() ? false : toBool(argumentAt(info, 2), "keepdim");
    std::optional<std::vector<int64_t>> dims;
    if (!dimsValue.IsUndefined() && !dimsValue.IsNull()) dims = toInt64List(dimsValue, "dim");
    at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
    at::Tensor result = Mean ? at::mean(input, dimRef, keepdim) : at::sum(input, dimRef, keepdim);
    return TensorHandle::wrap(info.Env(), result);
  });
}

// max/min(input) -> tensor; max/min(input, dim, keepdim) -> [values, indices]
template <bool Max>
Napi::Value extreme(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    std::optional<int64_t> dim = toOptionalInt64(argumentAt(info, 1), "dim");
    if (!dim) return TensorHandle::wrap(info.Env(), Max ? at::max(input) : at::min(input));
    bool keepdim = argumentAt(info, 2).IsUndefined() ? false : toBool(argumentAt(info, 2), "keepdim");
    auto [values, indices] = Max ? at::max(input, *dim, keepdim) : at::min(input, *dim, keepdim);
    Napi::Array pair = Napi::Array::New(info.Env(), 2);
    pair.Set(0u, TensorHandle::wrap(info.Env(), values));
    pair.Set(1u, TensorHandle::wrap(info.Env(), indices));
    return pair;
  });
}

Napi::Value argmax(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    std::optional<int64_t> dim = toOptionalInt64(argumentAt(info, 1), "dim");
    bool keepdim = argumentAt(info, 2).IsUndefined() ? false : toBool(argumentAt(info, 2), "keepdim");
    return TensorHandle::wrap(info.Env(), at::argmax(input, dim, keepdim));
  });
}

template <bool View>
Napi::Value reshape(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    std::vector<int64_t> shape = toInt64List(argumentAt(info, 1), "shape");
    return TensorHandle::wrap(info.Env(), View ? input.view(shape) : input.reshape(shape));
  });
}

Napi::Value transpose(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    return TensorHandle::wrap(info.Env(), input.transpose(toInt64(argumentAt(info, 1), "dim0"),
                                                          toInt64(argumentAt(info, 2), "dim1")));
  });
}

Napi::Value permute(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    return TensorHandle::wrap(info.Env(), input.permute(toInt64List(argumentAt(info, 1), "dims")));
  });
}

Napi::Value unsqueeze(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return TensorHandle::wrap(info.Env(), tensorArg(info, 0, "input").unsqueeze(toInt64(argumentAt(info, 1), "dim")));
  });
}

Napi::Value squeeze(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    std::optional<int64_t> dim = toOptionalInt64(argumentAt(info, 1), "dim");
    return TensorHandle::wrap(info.Env(), dim ? input.squeeze(*dim) : input.squeeze());
  });
}

// slice(input, dim, start | null, end | null, step)
Napi::Value slice(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    int64_t dim = toInt64(argumentAt(info, 1), "dim");
    std::optional<int64_t> start = toOptionalInt64(argumentAt(info, 2), "start");
    std::optional<int64_t> end = toOptionalInt64(argumentAt(info, 3), "end");
    int64_t step = argumentAt(info, 4).IsUndefined() ? 1 : toInt64(argumentAt(info, 4), "step");
    if (step < 1) fail(ErrorKind::Argument, "step must be a positive integer");
    return TensorHandle::wrap(info.Env(), input.slice(dim, start, end, step));
  });
}

Napi::Value indexSelect(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    int64_t dim = toInt64(argumentAt(info, 1), "dim");
    return TensorHandle::wrap(info.Env(), input.index_select(dim, tensorArg(info, 2, "index")));
  });
}

std::vector<at::Tensor> tensorList(const Napi::Value& value, const char* name) {
  if (!value.IsArray()) fail(ErrorKind::Argument, std::string(name) + " must be an array of Tensors");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<at::Tensor> tensors;
  tensors.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) tensors.push_back(TensorHandle::unwrap(array.Get(i), name));
  return tensors;
}

template <bool Stack>
Napi::Value join(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<at::Tensor> tensors = tensorList(argumentAt(info, 0), "tensors");
    int64_t dim = toInt64(argumentAt(info, 1), "dim");
    return TensorHandle::wrap(info.Env(), Stack ? at::stack(tensors, dim) : at::cat(tensors, dim));
  });
}

template <bool Log>
Napi::Value softmax(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    int64_t dim = toInt64(argumentAt(info, 1), "dim");
    return TensorHandle::wrap(info.Env(), Log ? at::log_softmax(input, dim) : at::softmax(input, dim));
  });
}

// allclose(a, b, rtol, atol, equalNan) -> boolean, libtorch's |a - b| <= atol + rtol * |b|
Napi::Value allclose(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& a = tensorArg(info, 0, "input");
    const at::Tensor& b = tensorArg(info, 1, "other");
    double rtol = toDouble(argumentAt(info, 2), "rtol");
    double atol = toDouble(argumentAt(info, 3), "atol");
    bool equalNan = toBool(argumentAt(info, 4), "equalNan");
    return Napi::Boolean::New(info.Env(), at::allclose(a, b, rtol, atol, equalNan));
  });
}

Napi::Value equal(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), at::equal(tensorArg(info, 0, "input"), tensorArg(info, 1, "other")));
  });
}

// to(input, {dtype?, device?}): a converted copy, or the same storage when nothing changes (as torch does).
Napi::Value to(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& input = tensorArg(info, 0, "input");
    Napi::Value optionsValue = argumentAt(info, 1);
    if (!optionsValue.IsObject()) fail(ErrorKind::Argument, "options must be an object");
    Napi::Object options = optionsValue.As<Napi::Object>();
    c10::ScalarType dtype = input.scalar_type();
    c10::Device device = input.device();
    if (!options.Get("dtype").IsUndefined()) dtype = scalarTypeFromName(toString(options.Get("dtype"), "options.dtype"));
    if (!options.Get("device").IsUndefined()) device = parseDevice(toString(options.Get("device"), "options.device"));
    return TensorHandle::wrap(info.Env(), input.to(at::TensorOptions().dtype(dtype).device(device)));
  });
}

at::Tensor cloneOf(const at::Tensor& t) { return t.clone(); }
at::Tensor detachOf(const at::Tensor& t) { return t.detach(); }
at::Tensor contiguousOf(const at::Tensor& t) { return t.contiguous(); }
at::Tensor negOf(const at::Tensor& t) { return at::neg(t); }
at::Tensor expOf(const at::Tensor& t) { return at::exp(t); }
at::Tensor logOf(const at::Tensor& t) { return at::log(t); }
at::Tensor sqrtOf(const at::Tensor& t) { return at::sqrt(t); }
at::Tensor absOf(const at::Tensor& t) { return at::abs(t); }
at::Tensor reluOf(const at::Tensor& t) { return at::relu(t); }
at::Tensor sigmoidOf(const at::Tensor& t) { return at::sigmoid(t); }
at::Tensor tanhOf(const at::Tensor& t) { return at::tanh(t); }

}  // namespace

void registerTensorOps(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*function)(const Napi::CallbackInfo&);
  };
  const Entry entries[] = {
      {"add", binary<Add>},           {"sub", binary<Sub>},
      {"mul", binary<Mul>},           {"div", binary<Div>},
      {"pow", binary<Pow>},           {"maximum", binary<Maximum>},
      {"neg", unary<negOf>},          {"exp", unary<expOf>},
      {"log", unary<logOf>},          {"sqrt", unary<sqrtOf>},
      {"abs", unary<absOf>},          {"relu", unary<reluOf>},
      {"sigmoid", unary<sigmoidOf>},  {"tanh", unary<tanhOf>},
      {"clone", unary<cloneOf>},      {"detach", unary<detachOf>},
      {"contiguous", unary<contiguousOf>},
      {"matmul", matmul},             {"sum", reduce<false>},
      {"mean", reduce<true>},         {"max", extreme<true>},
      {"min", extreme<false>},        {"argmax", argmax},
      {"reshape", reshape<false>},    {"view", reshape<true>},
      {"transpose", transpose},       {"permute", permute},
      {"unsqueeze", unsqueeze},       {"squeeze", squeeze},
      {"slice", slice},               {"indexSelect", indexSelect},
      {"cat", join<false>},           {"stack", join<true>},
      {"softmax", softmax<false>},    {"logSoftmax", softmax<true>},
      {"allclose", allclose},         {"equal", equal},
      {"to", to},
  };
  for (const Entry& entry : entries) exports.Set(entry.name, Napi::Function::New(env, entry.function, entry.name));
}

}  // namespace moonlight::napi
