#include "models/common/model_creation.h"

#include "core/dtype.h"
#include "core/json_options.h"
#include "models/common/pretrained_weights.h"

namespace moonlight::models {

namespace {

using json_options::Json;

struct CreateOptions {
  size_t seed = 0;
  c10::ScalarType dtype = c10::ScalarType::Float;
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

template <typename Visit>
void forEachField(CreateOptions& o, Visit&& field) {
  field("seed", o.seed);
  field("dtype", o.dtype);
  field("device", o.device);
}

}  // namespace

ModelCreation modelCreationFromJson(const Json& config, const Json& options) {
  CreateOptions read;
  if (!options.is_null()) json_options::readOptions(options, "options", read);
  if (!c10::isFloatingType(read.dtype)) {
    fail(ErrorKind::DType, "options.dtype is '" + dtypeName(read.dtype) + "'; a model needs a floating dtype");
  }
  ModelCreation creation{modelConfigFromJson(config), at::TensorOptions(), static_cast<uint64_t>(read.seed)};
  creation.tensorOptions = at::TensorOptions().dtype(read.dtype).device(read.device);
  return creation;
}

std::shared_ptr<CausalLM> createModel(const ModelCreation& creation) {
  return std::make_shared<CausalLM>(creation.config, creation.tensorOptions, creation.seed);
}

PretrainedModel loadPretrainedModel(const ModelCreation& creation, const std::string& directory) {
  auto model = std::make_shared<CausalLM>(creation.config, creation.tensorOptions, creation.seed, WeightInit::Uninitialised);
  PretrainedLoadReport report = loadPretrainedWeights(*model, directory);
  return {std::move(model), std::move(report.unexpected)};
}

}  // namespace moonlight::models
