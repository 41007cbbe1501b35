#include "optim/muon.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "optim/newton_schulz.h"

namespace moonlight::optim {

double updateScaleFactor(UpdateScale scale, int64_t rows, int64_t cols) {
  const double a = static_cast<double>(rows);
  const double b = static_cast<double>(cols);
  if (scale == UpdateScale::MatchRmsAdamW) return 0.2 * std::sqrt(std::max(a, b));
  return std::sqrt(std::max(1.0, a / b));
}

namespace {

// The Newton–Schulz input of one parameter as a batch of wide matrices [E, m, n], m ≤ n.
struct PreparedUpdate {
  const MuonTask* task;
  at::Tensor wide;
  bool transposed;
};

// Same-shape matrices of one group (one NS config) on one device share a batched Newton–Schulz.
using BatchKey = std::tuple<size_t, int64_t, int64_t, int, int, c10::ScalarType>;

PreparedUpdate momentumUpdate(const MuonTask& task) {
  const MuonHyperParams& muon = task.group->muon;
  at::Tensor& buffer = task.state->momentumBuffer;
  buffer.mul_(muon.momentum).add_(task.grad);  // M ← μM + G
  at::Tensor update = muon.nesterov ? at::add(task.grad, buffer, muon.momentum) : buffer;
  const int64_t rows = update.size(-2);
  const int64_t cols = update.size(-1);
  at::Tensor matrices = update.reshape({-1, rows, cols});
  const bool transposed = rows > cols;  // iterate on the wide orientation: the Gram matrix is the small side
  return {&task, transposed ? matrices.transpose(1, 2) : matrices, transposed};
}

void applyUpdate(const PreparedUpdate& prepared, const at::Tensor& orthogonal) {
  const MuonTask& task = *prepared.task;
  const ParamGroupConfig& group = *task.group;
  at::Tensor& param = task.state->param;
  at::Tensor update = prepared.transposed ? orthogonal.transpose(1, 2) : orthogonal;
  const double scale = updateScaleFactor(group.muon.updateScale, param.size(-2), param.size(-1));
  // Decoupled weight decay uses the unadjusted lr, as in every reference; only the update is scaled.
  if (group.weightDecay != 0) param.mul_(1.0 - group.lr * group.weightDecay);
  param.add_(update.reshape(param.sizes()), -group.lr * scale);
}

}  // namespace

void muonStep(const std::vector<MuonTask>& tasks) {
  std::map<BatchKey, std::vector<PreparedUpdate>> batches;
  for (const MuonTask& task : tasks) {
    PreparedUpdate prepared = momentumUpdate(task);
    const c10::Device device = prepared.wide.device();
    BatchKey key{task.groupIndex,       prepared.wide.size(1), prepared.wide.size(2), static_cast<int>(device.type()),
                 device.index(), prepared.wide.scalar_type()};
    batches[key].push_back(std::move(prepared));
  }
  for (auto& [key, members] : batches) {
    const NewtonSchulzConfig& ns = members.front().task->group->muon.newtonSchulz;
    std::vector<at::Tensor> inputs;
    inputs.reserve(members.size());
    for (const PreparedUpdate& member : members) inputs.push_back(member.wide);
    at::Tensor stacked = inputs.size() == 1 ? inputs.front() : at::cat(inputs, 0);
    at::Tensor orthogonal = newtonSchulz(stacked, ns);
    int64_t offset = 0;
    for (const PreparedUpdate& member : members) {
      const int64_t count = member.wide.size(0);
      applyUpdate(member, orthogonal.narrow(0, offset, count));
      offset += count;
    }
  }
}

}  // namespace moonlight::optim
