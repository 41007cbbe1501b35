#include "dist/distributed_strategy.h"

#include <memory>

#include "core/errors.h"
#include "dist/process_group.h"
#include "dist/whole_matrix_muon.h"
#include "dist/zero1_muon.h"

namespace moonlight::dist {

optim::DistributedStepFactory distributedStepFactory(const DistributedStrategyOptions& options) {
  const std::string mode = options.mode;
  if (mode != "zero1" && mode != "whole-matrix") {
    fail(ErrorKind::Config, "options.distributed.mode is '" + mode + "'; expected 'zero1' or 'whole-matrix'");
  }
  const int64_t bucketBytes = options.bucketBytes;
  if (bucketBytes <= 0) fail(ErrorKind::Config, "options.distributed.bucketBytes must be positive");
  std::shared_ptr<ProcessGroup> group = currentProcessGroup();
  return [group, mode, bucketBytes](const std::vector<optim::ParameterState>& params,
                                    const std::vector<optim::ParamGroupConfig>& groups)
             -> std::shared_ptr<optim::DistributedStep> {
    if (mode == "zero1") return std::make_shared<Zero1Step>(group, params, groups, bucketBytes);
    return std::make_shared<WholeMatrixStep>(group, params, groups, bucketBytes);
  };
}

}  // namespace moonlight::dist
