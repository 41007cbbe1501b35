#include "dist/collective_copies.h"

#include <vector>

#include "core/errors.h"

namespace moonlight::dist {

CollectiveKind parseCollectiveKind(const std::string& name) {
  if (name == "allReduce") return CollectiveKind::AllReduce;
  if (name == "allGather") return CollectiveKind::AllGather;
  if (name == "reduceScatter") return CollectiveKind::ReduceScatter;
  if (name == "broadcast") return CollectiveKind::Broadcast;
  fail(ErrorKind::Argument, "unknown collective '" + name + "'");
}

ReduceOp parseReduceOp(const std::string& name) {
  if (name == "sum") return ReduceOp::Sum;
  if (name == "avg") return ReduceOp::Avg;
  fail(ErrorKind::Argument, "op is '" + name + "'; expected 'sum' or 'avg'");
}

std::function<at::Tensor()> collectiveOnCopy(std::shared_ptr<ProcessGroup> group, const at::Tensor& input,
                                             const CollectiveRequest& request) {
  at::Tensor copy = input.detach().contiguous().clone();
  switch (request.kind) {
    case CollectiveKind::AllReduce:
      return [group, copy, op = request.op]() mutable {
        group->allReduce(copy, op);
        return copy;
      };
    case CollectiveKind::AllGather:
      return [group, copy]() mutable {
        at::Tensor output = at::empty({copy.numel() * group->worldSize()}, copy.options());
        at::Tensor flat = copy.reshape({-1});
        group->allGather(output, flat);
        std::vector<int64_t> shape{group->worldSize()};
        for (int64_t size : copy.sizes()) shape.push_back(size);
        return output.view(shape);
      };
    case CollectiveKind::ReduceScatter:
      if (copy.dim() == 0 || copy.size(0) != group->worldSize()) {
        fail(ErrorKind::Argument, "reduceScatter needs a tensor whose first dimension is the world size");
      }
      return [group, copy, op = request.op]() mutable {
        at::Tensor output = at::empty(copy.sizes().slice(1), copy.options());
        at::Tensor flat = copy.reshape({-1});
        group->reduceScatter(output, flat, op);
        return output;
      };
    case CollectiveKind::Broadcast:
      return [group, copy, root = request.root]() mutable {
        group->broadcast(copy, root);
        return copy;
      };
  }
  fail(ErrorKind::Argument, "unknown collective");
}

}  // namespace moonlight::dist
