#include "dist/process_group.h"

#include <mutex>

// The torch wheel compiles ProcessGroupGloo into libtorch_cpu (USE_GLOO=ON) but its CMake config does not
// export the define that unlocks the header; the gloo headers themselves come from Debian's libgloo-dev.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/errors.h"

namespace moonlight::dist {

namespace {

std::string where(const ProcessGroupOptions& options) {
  return "rank " + std::to_string(options.rank) + " of " + std::to_string(options.worldSize) + ", master " +
         options.masterAddr + ":" + std::to_string(options.masterPort);
}

// First line of a c10d message: the rest is a C++ stack trace that helps nobody running a training job.
std::string firstLine(const std::string& message) {
  const size_t end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

bool isLoopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

::c10d::ReduceOp c10dOp(ReduceOp op) {
  // Gloo has no AVG: sum, then divide (see allReduce / reduceScatter).
  (void)op;
  return ::c10d::ReduceOp(::c10d::ReduceOp::SUM);
}

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<::c10d::ProcessGroupGloo> gloo;
  std::chrono::milliseconds timeout;

  void wait(const c10::intrusive_ptr<::c10d::Work>& work, const char* what, const ProcessGroupOptions& options) {
    try {
      work->wait(timeout);
    } catch (const std::exception& error) {
      fail(ErrorKind::Distributed, std::string(what) + " failed on " + where(options) + ": " + firstLine(error.what()));
    }
  }
};

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  if (options.worldSize < 1) fail(ErrorKind::Distributed, "worldSize must be ≥ 1, got " + std::to_string(options.worldSize));
  if (options.rank < 0 || options.rank >= options.worldSize) {
    fail(ErrorKind::Distributed, "rank " + std::to_string(options.rank) + " is outside [0, " +
                                     std::to_string(options.worldSize) + ")");
  }
  if (options.masterPort <= 0 || options.masterPort > 65535) {
    fail(ErrorKind::Distributed, "masterPort " + std::to_string(options.masterPort) + " is not a TCP port");
  }
  if (options.timeout.count() <= 0) fail(ErrorKind::Distributed, "the timeout must be positive");
  impl_->timeout = options.timeout;
  ::c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<std::uint16_t>(options.masterPort);
  storeOptions.isServer = options.rank == 0;
  storeOptions.numWorkers = static_cast<size_t>(options.worldSize);
  storeOptions.waitWorkers = true;
  storeOptions.timeout = options.timeout;
  try {
    impl_->store = c10::make_intrusive<::c10d::TCPStore>(options.masterAddr, storeOptions);
  } catch (const std::exception& error) {
    const std::string cause = firstLine(error.what());
    if (options.rank == 0) {
      fail(ErrorKind::Distributed, "rank 0 could not serve the rendezvous on port " +
                                       std::to_string(options.masterPort) + " (" + where(options) +
                                       "): is the port already in use? " + cause);
    }
    fail(ErrorKind::Distributed, "could not reach the master " + options.masterAddr + ":" +
                                     std::to_string(options.masterPort) + " within " +
                                     std::to_string(options.timeout.count()) + " ms (" + where(options) + "): " + cause);
  }
  try {
    auto glooOptions = ::c10d::ProcessGroupGloo::Options::create(options.timeout);
    glooOptions->devices.push_back(isLoopback(options.masterAddr)
                                       ? ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                       : ::c10d::ProcessGroupGloo::createDefaultDevice());
    auto store = c10::make_intrusive<::c10d::PrefixStore>("moonlight/gloo", impl_->store);
    impl_->gloo = c10::make_intrusive<::c10d::ProcessGroupGloo>(store, options.rank, options.worldSize, glooOptions);
  } catch (const std::exception& error) {
    fail(ErrorKind::Distributed, "could not connect the gloo process group (" + where(options) + "): " +
                                     firstLine(error.what()));
  }
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::allReduce(at::Tensor& tensor, ReduceOp op) {
  std::vector<at::Tensor> tensors{tensor};
  ::c10d::AllreduceOptions opts;
  opts.reduceOp = c10dOp(op);
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->gloo->allreduce(tensors, opts), "allReduce", options_);
  if (op == ReduceOp::Avg) tensor.div_(options_.worldSize);
  const int64_t w = options_.worldSize;
  bytesSent_ += 2 * (w - 1) * tensor.nbytes() / w;
}

void ProcessGroup::reduceScatter(at::Tensor& output, at::Tensor& input, ReduceOp op) {
  if (input.numel() != output.numel() * options_.worldSize) {
    fail(ErrorKind::Distributed, "reduceScatter: the input must hold worldSize × the output's elements");
  }
  ::c10d::ReduceScatterOptions opts;
  opts.reduceOp = c10dOp(op);
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->gloo->_reduce_scatter_base(output, input, opts), "reduceScatter", options_);
  if (op == ReduceOp::Avg) output.div_(options_.worldSize);
  bytesSent_ += (options_.worldSize - 1) * output.nbytes();
}

void ProcessGroup::allGather(at::Tensor& output, at::Tensor& input) {
  if (output.numel() != input.numel() * options_.worldSize) {
    fail(ErrorKind::Distributed, "allGather: the output must hold worldSize × the input's elements");
  }
  ::c10d::AllgatherOptions opts;
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->gloo->_allgather_base(output, input, opts), "allGather", options_);
  bytesSent_ += (options_.worldSize - 1) * input.nbytes();
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  if (root < 0 || root >= options_.worldSize) fail(ErrorKind::Distributed, "broadcast root " + std::to_string(root) + " is not a rank");
  std::vector<at::Tensor> tensors{tensor};
  ::c10d::BroadcastOptions opts;
  opts.rootRank = root;
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->gloo->broadcast(tensors, opts), "broadcast", options_);
  if (root == options_.rank) bytesSent_ += (options_.worldSize - 1) * tensor.nbytes();
}

void ProcessGroup::barrier() {
  ::c10d::BarrierOptions opts;
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->gloo->barrier(opts), "barrier", options_);
}

namespace {
std::mutex globalMutex;
std::shared_ptr<ProcessGroup> globalGroup;
}  // namespace

std::shared_ptr<ProcessGroup> initProcessGroup(const ProcessGroupOptions& options) {
  {
    std::lock_guard<std::mutex> lock(globalMutex);
    if (globalGroup) fail(ErrorKind::Distributed, "the process group is already initialized; destroy() it first");
  }
  auto group = std::make_shared<ProcessGroup>(options);  // the slow rendezvous runs without the lock
  std::lock_guard<std::mutex> lock(globalMutex);
  if (globalGroup) fail(ErrorKind::Distributed, "the process group is already initialized; destroy() it first");
  globalGroup = group;
  return group;
}

std::shared_ptr<ProcessGroup> currentProcessGroup() {
  std::lock_guard<std::mutex> lock(globalMutex);
  if (!globalGroup) fail(ErrorKind::Distributed, "the process group is not initialized: await distributed.init() first");
  return globalGroup;
}

bool processGroupInitialized() {
  std::lock_guard<std::mutex> lock(globalMutex);
  return globalGroup != nullptr;
}

void destroyProcessGroup() {
  std::lock_guard<std::mutex> lock(globalMutex);
  globalGroup.reset();
}

}  // namespace moonlight::dist
