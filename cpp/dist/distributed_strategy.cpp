#include "dist/distributed_strategy.h"

#include <memory>

#include "dist/bucketing.h"
#include "dist/process_group.h"
#include "dist/whole_matrix_muon.h"
#include "dist/zero1_muon.h"

namespace moonlight::dist {

optim::DistributedStepFactory distributedStepFactory(const optim::DistributedOptions& options) {
  const optim::DistributedMode mode = options.mode;
  const int64_t bucketBytes = options.bucketBytes.value_or(kDefaultBucketBytes);
  std::shared_ptr<ProcessGroup> group = currentProcessGroup();
  return [group, mode, bucketBytes](const std::vector<optim::ParameterState>& params,
                                    const std::vector<optim::ParamGroupConfig>& groups)
             -> std::shared_ptr<optim::DistributedStep> {
    if (mode == optim::DistributedMode::Zero1) return std::make_shared<Zero1Step>(group, params, groups, bucketBytes);
    return std::make_shared<WholeMatrixStep>(group, params, groups, bucketBytes);
  };
}

}  // namespace moonlight::dist
