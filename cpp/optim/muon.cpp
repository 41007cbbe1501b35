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

// Same-shape matrices (up to orientation) of one group (one NS config), dtype and device share a batched
// Newton–Schulz.
using BatchKey = std::tuple<size_t, int64_t, int64_t, int, int, c10::ScalarType>;

// Elements per batched Newton–Schulz (64 Mi: 256 MiB of float32 input). Big enough that a layer stack's
// same-shape matrices batch together, small enough that a 16B-parameter model does not copy all its
// matrices at once.
constexpr int64_t kMaxBatchElements = int64_t{1} << 26;

// [E, m, n] with m ≤ n of a parameter-shaped update, and whether it was transposed.
std::pair<at::Tensor, bool> wideMatrices(const at::Tensor& update) {
  const int64_t rows = update.size(-2);
  const int64_t cols = update.size(-1);
  int64_t matrixCount = 1;  // leading dims (experts, ...) multiplied; explicit so empty tensors reshape too
  for (int64_t dim = 0; dim + 2 < update.dim(); ++dim) matrixCount *= update.size(dim);
  at::Tensor matrices = update.reshape({matrixCount, rows, cols});
  const bool transposed = rows > cols;  // iterate on the wide orientation: the Gram matrix is the small side
  return {transposed ? matrices.transpose(1, 2) : matrices, transposed};
}

PreparedUpdate momentumUpdate(const MuonTask& task) {
  auto [wide, transposed] = wideMatrices(applyMomentum(task.state->momentumBuffer, task.grad, task.group->muon));
  return {&task, wide, transposed};
}

void applyUpdate(const PreparedUpdate& prepared, const at::Tensor& orthogonal) {
  const MuonTask& task = *prepared.task;
  const ParamGroupConfig& group = *task.group;
  at::Tensor& param = task.state->param;
  at::Tensor update = prepared.transposed ? orthogonal.transpose(1, 2) : orthogonal;
  if (task.recordUpdateRms) {
    // Measured where the update is formed: s(A, B)·RMS(O) per matrix of the stack.
    const double scale = updateScaleFactor(group.muon.updateScale, param.size(-2), param.size(-1));
    task.state->updateRms = update.to(at::kFloat).square().mean({1, 2}).sqrt().mul_(scale).to(at::kCPU);
  }
  applyOrthogonalUpdate(param, update.reshape(param.sizes()), group, param.size(-2), param.size(-1));
}

}  // namespace

at::Tensor applyMomentum(at::Tensor& buffer, const at::Tensor& grad, const MuonHyperParams& muon) {
  buffer.mul_(muon.momentum).add_(grad);  // M ← μM + G
  return muon.nesterov ? at::add(grad, buffer, muon.momentum) : buffer;
}

at::Tensor orthogonalize(const at::Tensor& update, const NewtonSchulzConfig& ns) {
  auto [wide, transposed] = wideMatrices(update);
  at::Tensor orthogonal = newtonSchulz(wide, ns);
  return (transposed ? orthogonal.transpose(1, 2) : orthogonal).reshape(update.sizes());
}

void applyOrthogonalUpdate(at::Tensor param, const at::Tensor& orthogonal, const ParamGroupConfig& group, int64_t rows,
                           int64_t cols) {
  const double scale = updateScaleFactor(group.muon.updateScale, rows, cols);
  // Decoupled weight decay uses the unadjusted lr, as in every reference; only the update is scaled.
  if (group.weightDecay != 0) param.mul_(1.0 - group.lr * group.weightDecay);
  param.add_(orthogonal, -group.lr * scale);
}

std::vector<std::vector<const MuonTask*>> muonBatches(const std::vector<MuonTask>& tasks) {
  std::map<BatchKey, std::vector<const MuonTask*>> groups;
  for (const MuonTask& task : tasks) {
    const at::Tensor& param = task.state->param;
    if (param.numel() == 0) continue;  // nothing to orthogonalize or decay
    const int64_t rows = param.size(-2);
    const int64_t cols = param.size(-1);
    const c10::Device device = param.device();
    BatchKey key{task.groupIndex, std::min(rows, cols), std::max(rows, cols), static_cast<int>(device.type()),
                 device.index(), param.scalar_type()};
    groups[key].push_back(&task);
  }
  std::vector<std::vector<const MuonTask*>> batches;
  for (auto& [key, members] : groups) {
    size_t first = 0;
    while (first < members.size()) {
      // Fill one batch up to kMaxBatchElements (a single larger parameter still forms a batch alone).
      std::vector<const MuonTask*> batch;
      int64_t elements = 0;
      while (first < members.size() &&
             (batch.empty() || elements + members[first]->state->param.numel() <= kMaxBatchElements)) {
        elements += members[first]->state->param.numel();
        batch.push_back(members[first]);
        ++first;
      }
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

void muonStep(const std::vector<MuonTask>& tasks) {
  // Group first, compute later: the momentum update and NS input of a batch are made only when that
  // batch runs, so the step's extra memory is one bounded batch, not a copy of every matrix at once.
  for (const std::vector<const MuonTask*>& members : muonBatches(tasks)) {
    const NewtonSchulzConfig& ns = members.front()->group->muon.newtonSchulz;
    std::vector<PreparedUpdate> batch;
    batch.reserve(members.size());
    for (const MuonTask* task : members) batch.push_back(momentumUpdate(*task));
    std::vector<at::Tensor> inputs;
    inputs.reserve(batch.size());
    for (const PreparedUpdate& member : batch) inputs.push_back(member.wide);
    at::Tensor stacked = inputs.size() == 1 ? inputs.front() : at::cat(inputs, 0);
    at::Tensor orthogonal = newtonSchulz(stacked, ns);
    int64_t offset = 0;
    for (const PreparedUpdate& member : batch) {
      const int64_t count = member.wide.size(0);
      applyUpdate(member, orthogonal.narrow(0, offset, count));
      offset += count;
    }
  }
}

}  // namespace moonlight::optim
