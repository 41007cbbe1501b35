// Train-step diagnostics and QK-Clip across the N-API boundary: reading { diagnostics, recordAttentionLogits,
// qkClip: { threshold, alpha } } from a step's options, and writing the measurements onto its metrics.
#pragma once

#include <optional>

#include <napi.h>

#include "train/step_diagnostics.h"
#include "train/train_step.h"

namespace moonlight::napi {

void readDiagnosticOptions(const Napi::Object& options, train::TrainStepOptions& into);

// Sets maxAttentionLogits / qkClippedHeads when recorded, and `diagnostics` on a diagnostic step.
void setDiagnostics(Napi::Env env, Napi::Object& metrics, const train::TrainStepResult& result,
                    const std::optional<train::StepDiagnostics>& diagnostics);

}  // namespace moonlight::napi
