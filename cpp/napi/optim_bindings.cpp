// Bindings of the optimizers (cpp/optim): one JS class, OptimizerHandle, owning a moonlight::optim::Optimizer.
// src/optim/ builds the arguments; unset option fields keep the C++ defaults (optim/optimizer_config.h).
#include <map>
#include <memory>
#include <optional>

#include <ATen/ATen.h>

#include "core/dtype.h"
#include "core/errors.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/dist_bindings.h"
#include "napi/addon_state.h"
#include "napi/error_bridge.h"
#include "napi/optimizer_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"
#include "optim/optimizer.h"
#include "optim/param_routing.h"

namespace moonlight::napi {

namespace {

using optim::AdamEpsPlacement;
using optim::OptimizerKind;
using optim::ParamGroupConfig;
using optim::UpdateScale;

Napi::Object objectArg(const Napi::Value& value, const std::string& name) {
  if (!value.IsObject()) fail(ErrorKind::Argument, name + " must be an object");
  return value.As<Napi::Object>();
}

Napi::Array arrayArg(const Napi::Value& value, const std::string& name) {
  if (!value.IsArray()) fail(ErrorKind::Argument, name + " must be an array");
  return value.As<Napi::Array>();
}

// Reads object[key] into `target` when present; the error names "<where>.<key>".
template <typename T, typename Convert>
void readOptional(const Napi::Object& object, const char* key, const std::string& where, T& target, Convert convert) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return;
  const std::string name = where + "." + key;
  target = convert(value, name.c_str());
}

OptimizerKind kindFromName(const std::string& name, const std::string& where) {
  if (name == "muon") return OptimizerKind::Muon;
  if (name == "adamw") return OptimizerKind::AdamW;
  fail(ErrorKind::Config, where + " is '" + name + "'; expected 'muon' or 'adamw'");
}

optim::NewtonSchulzConfig parseCoefficients(const Napi::Value& value, const std::string& where) {
  if (value.IsString()) return optim::namedNewtonSchulz(value.As<Napi::String>().Utf8Value(), where);
  if (!value.IsArray()) fail(ErrorKind::Config, where + " must be 'keller-jordan', 'polar-express' or [[a, b, c], ...]");
  optim::NewtonSchulzConfig config = optim::kellerJordanNewtonSchulz();
  config.coefficients.clear();
  config.normScale = 1.0;
  Napi::Array triples = value.As<Napi::Array>();
  for (uint32_t i = 0; i < triples.Length(); ++i) {
    const std::string name = where + "[" + std::to_string(i) + "]";
    Napi::Value triple = triples.Get(i);
    if (!triple.IsArray() || triple.As<Napi::Array>().Length() != 3) {
      fail(ErrorKind::Config, name + " must be a triple [a, b, c]");
    }
    Napi::Array abc = triple.As<Napi::Array>();
    config.coefficients.push_back({toDouble(abc.Get(0u), name.c_str()), toDouble(abc.Get(1u), name.c_str()),
                                   toDouble(abc.Get(2u), name.c_str())});
  }
  return config;
}

ParamGroupConfig parseMuonBase(const Napi::Object& object) {
  const std::string where = "muonOptions";
  ParamGroupConfig group;
  group.kind = OptimizerKind::Muon;
  group.muon.newtonSchulz = optim::kellerJordanNewtonSchulz();
  readOptional(object, "lr", where, group.lr, toDouble);
  readOptional(object, "weightDecay", where, group.weightDecay, toDouble);
  readOptional(object, "momentum", where, group.muon.momentum, toDouble);
  readOptional(object, "nesterov", where, group.muon.nesterov, toBool);
  Napi::Value coefficients = object.Get("nsCoefficients");
  if (!coefficients.IsUndefined() && !coefficients.IsNull()) {
    group.muon.newtonSchulz = parseCoefficients(coefficients, where + ".nsCoefficients");
  }
  optim::NewtonSchulzConfig& ns = group.muon.newtonSchulz;
  readOptional(object, "nsSteps", where, ns.steps, toInt64);
  readOptional(object, "eps", where, ns.eps, toDouble);
  readOptional(object, "nsNormScale", where, ns.normScale, toDouble);
  readOptional(object, "nsDtype", where, ns.dtype,
               [](const Napi::Value& v, const char* name) { return scalarTypeFromName(toString(v, name)); });
  readOptional(object, "updateScale", where, group.muon.updateScale, [&](const Napi::Value& v, const char* name) {
    std::string scale = toString(v, name);
    if (scale == "match-rms-adamw") return UpdateScale::MatchRmsAdamW;
    if (scale == "original") return UpdateScale::Original;
    fail(ErrorKind::Config, std::string(name) + " is '" + scale + "'; expected 'match-rms-adamw' or 'original'");
  });
  return group;
}

ParamGroupConfig parseAdamWBase(const Napi::Object& object) {
  const std::string where = "adamwOptions";
  ParamGroupConfig group;
  group.kind = OptimizerKind::AdamW;
  readOptional(object, "lr", where, group.lr, toDouble);
  readOptional(object, "weightDecay", where, group.weightDecay, toDouble);
  readOptional(object, "beta1", where, group.adamw.beta1, toDouble);
  readOptional(object, "beta2", where, group.adamw.beta2, toDouble);
  readOptional(object, "eps", where, group.adamw.eps, toDouble);
  readOptional(object, "epsPlacement", where, group.adamw.epsPlacement, [](const Napi::Value& v, const char* name) {
    std::string placement = toString(v, name);
    if (placement == "torch") return AdamEpsPlacement::Torch;
    if (placement == "moonlight") return AdamEpsPlacement::Moonlight;
    fail(ErrorKind::Config, std::string(name) + " is '" + placement + "'; expected 'torch' or 'moonlight'");
  });
  return group;
}

std::vector<optim::NamedParameter> parseParameters(const Napi::Value& value) {
  Napi::Array list = arrayArg(value, "params");
  std::vector<optim::NamedParameter> params;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string where = "params[" + std::to_string(i) + "]";
    Napi::Object entry = objectArg(list.Get(i), where);
    params.push_back({toString(entry.Get("name"), (where + ".name").c_str()),
                      TensorHandle::unwrap(entry.Get("tensor"), (where + ".tensor").c_str())});
  }
  return params;
}

std::vector<optim::GroupRequest> parseRequests(const Napi::Value& value) {
  Napi::Array list = arrayArg(value, "groups");
  std::vector<optim::GroupRequest> requests;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string where = "groups[" + std::to_string(i) + "]";
    Napi::Object entry = objectArg(list.Get(i), where);
    optim::GroupRequest request;
    request.name = toString(entry.Get("name"), (where + ".name").c_str());
    for (int64_t index : toInt64List(entry.Get("parameterIndices"), (where + ".parameterIndices").c_str())) {
      if (index < 0) fail(ErrorKind::Argument, where + ".parameterIndices has a negative index");
      request.parameterIndices.push_back(static_cast<size_t>(index));
    }
    Napi::Value kind = entry.Get("optimizer");
    if (!kind.IsUndefined() && !kind.IsNull()) {
      request.kind = kindFromName(toString(kind, (where + ".optimizer").c_str()), where + ".optimizer");
    }
    Napi::Value lr = entry.Get("lr");
    if (!lr.IsUndefined() && !lr.IsNull()) request.lr = toDouble(lr, (where + ".lr").c_str());
    Napi::Value weightDecay = entry.Get("weightDecay");
    if (!weightDecay.IsUndefined() && !weightDecay.IsNull()) {
      request.weightDecay = toDouble(weightDecay, (where + ".weightDecay").c_str());
    }
    requests.push_back(std::move(request));
  }
  return requests;
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

// JS: new OptimizerHandle(params, groups, muonOptions, adamwOptions, routing, options)
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
      std::vector<optim::NamedParameter> params = parseParameters(argumentAt(info, 0));
      std::vector<optim::GroupRequest> requests = parseRequests(argumentAt(info, 1));
      ParamGroupConfig muonBase = parseMuonBase(objectArg(argumentAt(info, 2), "muonOptions"));
      ParamGroupConfig adamwBase = parseAdamWBase(objectArg(argumentAt(info, 3), "adamwOptions"));
      Napi::Object routing = objectArg(argumentAt(info, 4), "routing");
      optim::RoutingRules rules;
      Napi::Value patterns = routing.Get("adamwNamePatterns");
      if (!patterns.IsUndefined()) {
        Napi::Array list = arrayArg(patterns, "routing.adamwNamePatterns");
        rules.adamwNamePatterns.clear();
        for (uint32_t i = 0; i < list.Length(); ++i) {
          rules.adamwNamePatterns.push_back(toString(list.Get(i), "routing.adamwNamePatterns[]"));
        }
      }
      Napi::Object options = objectArg(argumentAt(info, 5), "options");
      optim::NonFiniteGradPolicy policy = optim::NonFiniteGradPolicy::Error;
      Napi::Value nonFinite = options.Get("nonFiniteGrads");
      if (!nonFinite.IsUndefined()) {
        std::string name = toString(nonFinite, "options.nonFiniteGrads");
        if (name == "skip") {
          policy = optim::NonFiniteGradPolicy::SkipStep;
        } else if (name != "error") {
          fail(ErrorKind::Config, "options.nonFiniteGrads is '" + name + "'; expected 'error' or 'skip'");
        }
      }
      optim::RoutedGroups routed = optim::routeParameters(params, requests, muonBase, adamwBase, rules);
      optim::DistributedStepFactory distributed = distributedStepFactory(options.Get("distributed"));
      optimizer_ = std::make_shared<optim::Optimizer>(std::move(params), std::move(routed), policy, std::move(distributed));
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
