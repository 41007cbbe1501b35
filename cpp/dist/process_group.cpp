#include "dist/process_group.h"

#include <mutex>

// The torch wheel compiles ProcessGroupGloo into libtorch_cpu (USE_GLOO=ON) but its CMake config does not
// export the define that unlocks the header; gloo's headers come from the system or the project's cache
// (scripts/build-headers.js).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
// The CUDA flavour (CMake sets MOONLIGHT_WITH_NCCL when the libtorch has torch_cuda and the NCCL headers
// of the nvidia-nccl wheel are found); the CUDA torch wheel compiles ProcessGroupNCCL into libtorch_cuda.
#ifdef MOONLIGHT_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/cuda.h>
#endif

#include "core/errors.h"
#include "dist/rendezvous.h"
#include "dist/c10d_message.h"

namespace moonlight::dist {

namespace {

std::string where(const ProcessGroupOptions& options) {
  return "rank " + std::to_string(options.rank) + " of " + std::to_string(options.worldSize) + ", master " +
         options.masterAddr + ":" + std::to_string(options.masterPort);
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

bool ncclCompiled() {
#ifdef MOONLIGHT_WITH_NCCL
  return true;
#else
  return false;
#endif
}

bool glooCompiled() { return true; }

struct ProcessGroup::Impl {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<::c10d::Backend> gloo;  // CPU tensors (and CUDA ones when there is no nccl)
  c10::intrusive_ptr<::c10d::Backend> nccl;  // CUDA tensors, CUDA flavour only
  std::chrono::milliseconds timeout;

  // The backend that moves `tensor`: NCCL for CUDA tensors when there is one, else gloo.
  ::c10d::Backend& backendFor(const at::Tensor& tensor, const ProcessGroupOptions& options) {
    if (tensor.is_cuda() && nccl) return *nccl;
    if (gloo) return *gloo;
    fail(ErrorKind::Distributed, "the 'nccl' backend moves CUDA tensors only, got a " + tensor.device().str() +
                                     " tensor (" + where(options) + "); use backend 'auto' or 'gloo' for CPU tensors");
  }

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
  // Before the rendezvous: a backend this build cannot give fails now, not after waiting for the others.
  const bool wantNccl = chooseNccl(options);
  impl_->store = rendezvous(options, where(options));
  if (options.backend != "nccl") connectGloo(options);
  if (wantNccl) connectNccl(options);
}

bool ProcessGroup::chooseNccl(const ProcessGroupOptions& options) {
  if (options.backend == "gloo") return false;
  if (options.backend == "nccl") {
    if (!ncclCompiled()) {
      fail(ErrorKind::Distributed, "backend 'nccl' needs the CUDA flavour of moonlight-torch; this addon was built "
                                   "against a CPU libtorch without NCCL (" + where(options) + "). Use backend 'gloo' "
                                   "or 'auto', or install the CUDA flavour (README, Installation)");
    }
    return true;
  }
  if (options.backend != "auto") {
    fail(ErrorKind::Distributed, "backend is '" + options.backend + "'; expected 'auto', 'gloo' or 'nccl'");
  }
#ifdef MOONLIGHT_WITH_NCCL
  return torch::cuda::is_available();
#else
  return false;
#endif
}

void ProcessGroup::connectGloo(const ProcessGroupOptions& options) {
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

void ProcessGroup::connectNccl(const ProcessGroupOptions& options) {
#ifdef MOONLIGHT_WITH_NCCL
  if (!torch::cuda::is_available()) {
    fail(ErrorKind::Distributed, "backend 'nccl' needs a visible CUDA GPU, and libtorch sees none (" + where(options) + ")");
  }
  try {
    auto ncclOptions = ::c10d::ProcessGroupNCCL::Options::create();
    ncclOptions->timeout = options.timeout;
    auto store = c10::make_intrusive<::c10d::PrefixStore>("moonlight/nccl", impl_->store);
    // Communicators are made lazily on the first collective, on the device of its tensors.
    impl_->nccl = c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, options.rank, options.worldSize, ncclOptions);
  } catch (const std::exception& error) {
    fail(ErrorKind::Distributed, "could not create the NCCL process group (" + where(options) + "): " +
                                     firstLine(error.what()));
  }
#else
  (void)options;
#endif
}

std::string ProcessGroup::backendNames() const {
  if (impl_->gloo && impl_->nccl) return "gloo+nccl";
  return impl_->nccl ? "nccl" : "gloo";
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::allReduce(at::Tensor& tensor, ReduceOp op) {
  std::vector<at::Tensor> tensors{tensor};
  ::c10d::AllreduceOptions opts;
  opts.reduceOp = c10dOp(op);
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->backendFor(tensor, options_).allreduce(tensors, opts), "allReduce", options_);
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
  impl_->wait(impl_->backendFor(input, options_)._reduce_scatter_base(output, input, opts), "reduceScatter", options_);
  if (op == ReduceOp::Avg) output.div_(options_.worldSize);
  bytesSent_ += (options_.worldSize - 1) * output.nbytes();
}

void ProcessGroup::allGather(at::Tensor& output, at::Tensor& input) {
  if (output.numel() != input.numel() * options_.worldSize) {
    fail(ErrorKind::Distributed, "allGather: the output must hold worldSize × the input's elements");
  }
  ::c10d::AllgatherOptions opts;
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->backendFor(input, options_)._allgather_base(output, input, opts), "allGather", options_);
  bytesSent_ += (options_.worldSize - 1) * input.nbytes();
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  if (root < 0 || root >= options_.worldSize) fail(ErrorKind::Distributed, "broadcast root " + std::to_string(root) + " is not a rank");
  std::vector<at::Tensor> tensors{tensor};
  ::c10d::BroadcastOptions opts;
  opts.rootRank = root;
  opts.timeout = impl_->timeout;
  impl_->wait(impl_->backendFor(tensor, options_).broadcast(tensors, opts), "broadcast", options_);
  if (root == options_.rank) bytesSent_ += (options_.worldSize - 1) * tensor.nbytes();
}

void ProcessGroup::barrier() {
  ::c10d::BarrierOptions opts;
  opts.timeout = impl_->timeout;
  // gloo's barrier needs no device; an NCCL-only group uses NCCL's (on the current CUDA device).
  ::c10d::Backend& backend = impl_->gloo ? *impl_->gloo : *impl_->nccl;
  impl_->wait(backend.barrier(opts), "barrier", options_);
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
