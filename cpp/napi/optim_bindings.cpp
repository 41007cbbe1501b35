// Bindings of the optimizers (cpp/optim): one JS class, OptimizerHandle, owning a moonlight::optim::Optimizer.
// The options and groups go to the core as JSON; only the parameters' tensor handles are unwrapped here.
#include <map>
#include <memory>
#include <optional>

#include <ATen/ATen.h>

#include "core/errors.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/dist_bindings.h"
#include "napi/addon_state.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "napi/optimizer_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"
#include "optim/optimizer.h"
#include "optim/optimizer_options.h"

namespace moonlight::napi {

namespace {

Napi::Object objectArg(const Napi::Value& value, const std::string& name) {
  if (!value.IsObject()) fail(ErrorKind::Argument, name + " must be an object");
  return value.As<Napi::Object>();
}

std::vector<optim::NamedParameter> parseParameters(const Napi::Value& value) {
  if (!value.IsArray()) fail(ErrorKind::Argument, "params must be an array");
  Napi::Array list = value.As<Napi::Array>();
  std::vector<optim::NamedParameter> params;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string where = "params[" + std::to_string(i) + "]";
    Napi::Object entry = objectArg(list.Get(i), where);
    params.push_back({toString(entry.Get("name"), (where + ".name").c_str()),
                      TensorHandle::unwrap(entry.Get("tensor"), (where + ".tensor").c_str())});
  }
  return params;
}

std::map<std::string, at::Tensor> namedTensors(const Napi::Value& value, const std::string& argumentName) {
  Napi::Object object = objectArg(value, argumentName);
  Napi::Array keys = object.GetPropertyNames();
  std::map<std::string, at::Tensor> tensors;
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    tensors[key] = TensorHandle::unwrap(object.Get(key), (argumentName + "['" + key + "']").c_str());
  }
  return tensors;
}

std::optional<std::map<std::string, at::Tensor>> namedGrads(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  return namedTensors(value, "grads");
}

Napi::Object stepReportToJs(Napi::Env env, const optim::StepReport& report) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("skipped", report.skipped);
  Napi::Array names = Napi::Array::New(env, report.nonFiniteParameters.size());
  for (size_t i = 0; i < report.nonFiniteParameters.size(); ++i) {
    names.Set(static_cast<uint32_t>(i), report.nonFiniteParameters[i]);
  }
  result.Set("nonFiniteParameters", names);
  return result;
}

// JS: new OptimizerHandle(kind, params, groups, options): options is the user's object, read by the core
// (optim/optimizer_options.h); params are {name, tensor} with tensor handles.
class OptimizerHandle : public Napi::ObjectWrap<OptimizerHandle> {
 public:
  static Napi::Function defineClass(Napi::Env env) {
    return DefineClass(env, "OptimizerHandle",
                       {
                           InstanceMethod<&OptimizerHandle::step>("step"),
                           InstanceMethod<&OptimizerHandle::stepAsync>("stepAsync"),
                           InstanceMethod<&OptimizerHandle::zeroGrad>("zeroGrad"),
                           InstanceMethod<&OptimizerHandle::setLr>("setLr"),
                           InstanceMethod<&OptimizerHandle::stateDict>("stateDict"),
                           InstanceMethod<&OptimizerHandle::fullStateDictAsync>("fullStateDictAsync"),
                           InstanceMethod<&OptimizerHandle::loadStateDict>("loadStateDict"),
                           InstanceMethod<&OptimizerHandle::stateBytes>("stateBytes"),
                           InstanceMethod<&OptimizerHandle::stepCount>("stepCount"),
                           InstanceMethod<&OptimizerHandle::groups>("groups"),
                           InstanceMethod<&OptimizerHandle::dispose>("dispose"),
                       });
  }

  explicit OptimizerHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerHandle>(info) {
    guard(info.Env(), [&]() {
      Napi::Value options = argumentAt(info, 3);
      // Called only once the core has checked options.distributed.
      auto distributed = [&](const optim::DistributedOptions&) {
        return distributedStepFactory(options.As<Napi::Object>().Get("distributed"));
      };
      optimizer_ = optim::makeOptimizer(toString(argumentAt(info, 0), "kind"), parseParameters(argumentAt(info, 1)),
                                        toJson(argumentAt(info, 2), "groups"), toJson(options, "options"),
                                        distributed);
    });
  }

 // The live optimizer (DisposedError once disposed). Jobs in flight hold their own reference.
 const std::shared_ptr<optim::Optimizer>& optimizer() const {
   if (!optimizer_) fail(ErrorKind::Disposed, "the optimizer was disposed");
   return optimizer_;
 }

 private:
  // Frees the state (momentum / moments: up to twice the model) now instead of at garbage collection.
  Napi::Value dispose(const Napi::CallbackInfo& info) {
    optimizer_.reset();
    return info.Env().Undefined();
  }

  // step(grads?): grads is {parameterName: TensorHandle}; without it each parameter's .grad is used.
  Napi::Value step(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      return stepReportToJs(info.Env(), optimizer()->step(namedGrads(argumentAt(info, 0))));
    });
  }

  // The step runs on a worker thread; the shared_ptr keeps the optimizer alive even if JS drops it meanwhile.
  Napi::Value stepAsync(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      std::shared_ptr<optim::Optimizer> optimizer = this->optimizer();
      auto grads = namedGrads(argumentAt(info, 0));
      return PromiseWorker<optim::StepReport>::start(
          info.Env(), "moonlight:optimizerStep", [optimizer, grads]() { return optimizer->step(grads); },
          [](Napi::Env env, optim::StepReport& report) -> Napi::Value { return stepReportToJs(env, report); });
    });
  }

  Napi::Value zeroGrad(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      optimizer()->zeroGrad();
      return info.Env().Undefined();
    });
  }

  // setLr(lr) for every group, setLr(lr, groupIndex) for one.
  Napi::Value setLr(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      double lr = toDouble(argumentAt(info, 0), "lr");
      std::optional<int64_t> group = toOptionalInt64(argumentAt(info, 1), "group");
      if (group) {
        if (*group < 0) fail(ErrorKind::Argument, "group must be a non-negative index");
        optimizer()->setGroupLr(static_cast<size_t>(*group), lr);
      } else {
        optimizer()->setLr(lr);
      }
      return info.Env().Undefined();
    });
  }

  Napi::Value stateDict(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      Napi::Object result = Napi::Object::New(info.Env());
      for (auto& [name, tensor] : optimizer()->stateDict()) result.Set(name, TensorHandle::wrap(info.Env(), tensor));
      return result;
    });
  }

  // The whole state gathered from every rank (a collective when distributed: every rank must call it).
  Napi::Value fullStateDictAsync(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      std::shared_ptr<optim::Optimizer> optimizer = this->optimizer();
      return PromiseWorker<optim::NamedTensors>::start(
          info.Env(), "moonlight:fullStateDict", [optimizer]() { return optimizer->fullStateDict(); },
          [](Napi::Env env, optim::NamedTensors& state) -> Napi::Value {
            Napi::Object result = Napi::Object::New(env);
            for (auto& [name, tensor] : state) result.Set(name, TensorHandle::wrap(env, tensor));
            return result;
          });
    });
  }

  Napi::Value loadStateDict(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      optimizer()->loadStateDict(namedTensors(argumentAt(info, 0), "state"));
      return info.Env().Undefined();
    });
  }

  Napi::Value stateBytes(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(optimizer()->stateBytes()));
    });
  }

  Napi::Value stepCount(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(optimizer()->stepCount()));
    });
  }

  // [{name, optimizer, lr, weightDecay, parameters: [names]}], in group index order.
  Napi::Value groups(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const auto& groups = optimizer()->groups();
      std::vector<std::vector<std::string>> members(groups.size());
      for (const optim::ParameterState& state : optimizer()->parameters()) members[state.group].push_back(state.name);
      Napi::Array result = Napi::Array::New(env, groups.size());
      for (size_t i = 0; i < groups.size(); ++i) {
        Napi::Object group = Napi::Object::New(env);
        group.Set("name", groups[i].name);
        group.Set("optimizer", optim::optimizerKindName(groups[i].kind));
        group.Set("lr", groups[i].lr);
        group.Set("weightDecay", groups[i].weightDecay);
        Napi::Array names = Napi::Array::New(env, members[i].size());
        for (size_t k = 0; k < members[i].size(); ++k) names.Set(static_cast<uint32_t>(k), members[i][k]);
        group.Set("parameters", names);
        result.Set(static_cast<uint32_t>(i), group);
      }
      return result;
    });
  }

  std::shared_ptr<optim::Optimizer> optimizer_;
};

}  // namespace

std::shared_ptr<optim::Optimizer> unwrapOptimizer(const Napi::Value& value, const char* argumentName) {
  if (value.IsObject()) {
    Napi::Object object = value.As<Napi::Object>();
    if (object.InstanceOf(addonState(value.Env()).optimizerHandleConstructor.Value())) {
      return OptimizerHandle::Unwrap(object)->optimizer();
    }
  }
  fail(ErrorKind::Argument, std::string(argumentName) + " must be an optimizer (Muon or AdamW)");
}

void registerOptim(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = OptimizerHandle::defineClass(env);
  addonState(env).optimizerHandleConstructor = Napi::Persistent(constructor);
  exports.Set("OptimizerHandle", constructor);
}

}  // namespace moonlight::napi
