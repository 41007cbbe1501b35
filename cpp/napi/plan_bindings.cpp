// planMemory(config, options) → the plan as a JSON string (train/memory_plan.h): src/plan/ parses it.
#include <napi.h>

#include <nlohmann/json.hpp>

#include "models/common/model_config.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "train/memory_plan.h"

namespace moonlight::napi {

namespace {

Napi::Value planMemory(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const models::ModelConfig config = models::modelConfigFromJson(toJson(argumentAt(info, 0), "config"));
    const train::MemoryPlan plan = train::planMemory(config, toJson(argumentAt(info, 1), "options"));
    return Napi::String::New(info.Env(), train::memoryPlanJson(plan).dump());
  });
}

}  // namespace

void registerPlan(Napi::Env env, Napi::Object exports) {
  exports.Set("planMemory", Napi::Function::New<planMemory>(env, "planMemory"));
}

}  // namespace moonlight::napi
