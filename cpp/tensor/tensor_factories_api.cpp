// Tensor creation of the JS API: from host data, constant fills, ranges and seeded random tensors, and the
// state of the default generators.
#include <torch/utils.h>

#include "core/api_tables.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/rng_state.h"
#include "tensor/host_transfer.h"
#include "tensor/tensor_spec.h"

namespace moonlight::tensor {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

using Fill = at::Tensor (*)(at::IntArrayRef, at::TensorOptions);

const Parameter kShape{"shape", Kind::Data};
const Parameter kOptions{"options", Kind::Data};
const Parameter kDevice{"device", Kind::Data};

std::vector<int64_t> shapeOf(const Arguments& a, size_t i) {
  std::vector<int64_t> shape = a.get<std::vector<int64_t>>(i);
  checkShape(shape, a.name(i));
  return shape;
}

// fromHost(data, sourceDtype, shape, options): a copy of the bytes, by default in the source's dtype.
Result fromHost(const Arguments& a) {
  const c10::ScalarType source = a.get<c10::ScalarType>(1);
  const std::vector<int64_t> shape = a.get<std::vector<int64_t>>(2);
  TensorSpec defaults;
  defaults.dtype = source;
  return tensorFromHost(a.bytes(0).data(), a.bytes(0).size(), source, shape, a.options<TensorSpec>(3, defaults));
}

// zeros / ones / randn / rand(shape, options). The random ones draw from libtorch's default generator,
// which manualSeed() seeds: the same stream torch.randn uses.
Function filled(const char* name, Fill fill) {
  return {name, {kShape, kOptions}, [fill](const Arguments& a) -> Result {
            const std::vector<int64_t> shape = shapeOf(a, 0);
            const TensorSpec spec = a.options<TensorSpec>(1);
            return applyRequiresGrad(fill(shape, spec.options()), spec);
          }};
}

// full(shape, value, options)
Result full(const Arguments& a) {
  const std::vector<int64_t> shape = shapeOf(a, 0);
  const double value = a.get<double>(1);
  const TensorSpec spec = a.options<TensorSpec>(2);
  return applyRequiresGrad(at::full(shape, value, spec.options()), spec);
}

// arange(start, end, step, options)
Result arange(const Arguments& a) {
  const double step = a.get<double>(2);
  if (step == 0) fail(ErrorKind::Argument, "step must be non-zero");
  const TensorSpec spec = a.options<TensorSpec>(3);
  return applyRequiresGrad(at::arange(a.get<double>(0), a.get<double>(1), step, spec.options()), spec);
}

Result manualSeed(const Arguments& a) {
  const int64_t seed = a.get<int64_t>(0);
  if (seed < 0) fail(ErrorKind::Argument, "seed must be a non-negative integer");
  torch::manual_seed(static_cast<uint64_t>(seed));
  return {};
}

// The device of rngState / setRngState: 'cpu' when absent.
c10::Device generatorDevice(const Arguments& a, size_t i) {
  return a.get<std::optional<c10::Device>>(i).value_or(c10::Device(c10::DeviceType::CPU));
}

}  // namespace

const FunctionTable& tensorFactories() {
  static const FunctionTable table = {
      {"fromHost", {{"data", Kind::HostBytes}, {"sourceDtype", Kind::Data}, kShape, kOptions}, fromHost},
      filled("zeros", [](at::IntArrayRef shape, at::TensorOptions options) { return at::zeros(shape, options); }),
      filled("ones", [](at::IntArrayRef shape, at::TensorOptions options) { return at::ones(shape, options); }),
      filled("randn", [](at::IntArrayRef shape, at::TensorOptions options) { return at::randn(shape, options); }),
      filled("rand", [](at::IntArrayRef shape, at::TensorOptions options) { return at::rand(shape, options); }),
      {"full", {kShape, {"value", Kind::Data}, kOptions}, full},
      {"arange", {{"start", Kind::Data}, {"end", Kind::Data}, {"step", Kind::Data}, kOptions}, arange},
      {"manualSeed", {{"seed", Kind::Data}}, manualSeed},
      // rngState(device?) → uint8 tensor; setRngState(state, device?)
      {"rngState", {kDevice}, [](const Arguments& a) -> Result { return defaultGeneratorState(generatorDevice(a, 0)); }},
      {"setRngState", {{"state", Kind::Tensor}, kDevice}, [](const Arguments& a) -> Result {
         setDefaultGeneratorState(generatorDevice(a, 1), a.tensor(0));
         return {};
       }},
      // Big random tensors take long: drawn off the JS thread.
      {"randnAsync", {kShape, kOptions}, nullptr, [](const Arguments& a) -> Job {
         return [shape = shapeOf(a, 0), spec = a.options<TensorSpec>(1)]() -> Result {
           return applyRequiresGrad(at::randn(shape, spec.options()), spec);
         };
       }},
  };
  return table;
}

}  // namespace moonlight::tensor
