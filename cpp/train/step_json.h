// A train step in the JS API's terms: its options read from the object src/models/causal_lm.ts assembles
// (NativeTrainStepOptions), and its outcome as the metrics object JS receives (TrainStepMetrics), the
// diagnostics and QK-Clip measurements included when the step recorded them.
#pragma once

#include <nlohmann/json.hpp>

#include "train/step_runner.h"
#include "train/train_step.h"

namespace moonlight::train {

// ArgumentError naming options.<key> for a value of the wrong kind; null or absent keys keep the defaults.
TrainStepOptions trainStepOptionsFromJson(const nlohmann::ordered_json& options);

nlohmann::ordered_json stepOutcomeToJson(const StepOutcome& outcome);

}  // namespace moonlight::train
