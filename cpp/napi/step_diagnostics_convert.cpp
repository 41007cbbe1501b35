#include "napi/step_diagnostics_convert.h"
#include <algorithm>
#include <limits>

#include "core/errors.h"
#include "napi/convert.h"

namespace moonlight::napi {

namespace {

bool present(const Napi::Object& object, const char* key) {
  Napi::Value field = object.Get(key);
  return !field.IsUndefined() && !field.IsNull();
}

Napi::Array numbers(Napi::Env env, const std::vector<double>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
  return array;
}

}  // namespace

void readDiagnosticOptions(const Napi::Object& options, train::TrainStepOptions& into) {
  if (present(options, "diagnostics")) into.diagnostics = options.Get("diagnostics").ToBoolean().Value();
  if (present(options, "recordAttentionLogits")) {
    into.recordAttentionLogits = options.Get("recordAttentionLogits").ToBoolean().Value();
  }
  if (present(options, "qkClip")) {
    Napi::Value value = options.Get("qkClip");
    if (!value.IsObject()) fail(ErrorKind::Argument, "options.qkClip must be { threshold, alpha }");
    Napi::Object clip = value.As<Napi::Object>();
    train::QkClipOptions parsed;
    if (present(clip, "threshold")) parsed.threshold = toDouble(clip.Get("threshold"), "options.qkClip.threshold");
    if (present(clip, "alpha")) parsed.alpha = toDouble(clip.Get("alpha"), "options.qkClip.alpha");
    if (present(clip, "remeasure")) parsed.remeasure = clip.Get("remeasure").ToBoolean().Value();
    into.qkClip = parsed;
  }
}

void setDiagnostics(Napi::Env env, Napi::Object& metrics, const train::TrainStepResult& result,
                    const std::optional<train::StepDiagnostics>& diagnostics) {
  if (!result.maxAttentionLogits.empty()) {
    Napi::Array layers = Napi::Array::New(env, result.maxAttentionLogits.size());
    for (uint32_t i = 0; i < layers.Length(); ++i) {
      const at::Tensor& logits = result.maxAttentionLogits[i];
      if (!logits.defined()) {
        layers.Set(i, env.Null());
        continue;
      }
      at::Tensor host = logits.to(at::kCPU, at::kDouble).contiguous();
      layers.Set(i, numbers(env, std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel())));
    }
    metrics.Set("maxAttentionLogits", layers);
    metrics.Set("qkClippedHeads", static_cast<double>(result.qkClippedHeads));
  }
  if (!diagnostics) return;
  Napi::Object out = Napi::Object::New(env);
  Napi::Array types = Napi::Array::New(env, diagnostics->matrixTypes.size());
  for (uint32_t i = 0; i < types.Length(); ++i) {
    const train::MatrixTypeStats& stats = diagnostics->matrixTypes[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("type", stats.type);
    entry.Set("optimizer", stats.optimizer);
    entry.Set("matrices", static_cast<double>(stats.matrices));
    entry.Set("weightRms", stats.weightRms);
    if (stats.updateMatrices > 0) {
      entry.Set("updateRms", stats.updateRms);
      entry.Set("updateRmsMin", stats.updateRmsMin);
      entry.Set("updateRmsMax", stats.updateRmsMax);
    }
    types.Set(i, entry);
  }
  out.Set("matrixTypes", types);
  Napi::Array attention = Napi::Array::New(env, diagnostics->attentionLayers.size());
  for (uint32_t i = 0; i < attention.Length(); ++i) {
    const std::vector<double>& heads = diagnostics->maxAttentionLogits[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("layer", static_cast<double>(diagnostics->attentionLayers[i]));
    double highest = -std::numeric_limits<double>::infinity();
    for (double value : heads) highest = std::max(highest, value);
    entry.Set("maxLogit", highest);
    entry.Set("perHead", numbers(env, heads));
    attention.Set(i, entry);
  }
  out.Set("attention", attention);
  Napi::Array moe = Napi::Array::New(env, diagnostics->moeLayers.size());
  for (uint32_t i = 0; i < moe.Length(); ++i) {
    const train::MoeLayerBalance& balance = diagnostics->moeLayers[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("layer", static_cast<double>(balance.layer));
    entry.Set("loadMaxOverMean", balance.loadMaxOverMean);
    entry.Set("biasMin", balance.biasMin);
    entry.Set("biasMax", balance.biasMax);
    moe.Set(i, entry);
  }
  out.Set("moe", moe);
  metrics.Set("diagnostics", out);
}

}  // namespace moonlight::napi
