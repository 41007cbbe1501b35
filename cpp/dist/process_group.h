// A data-parallel process group on libtorch's c10d: a TCPStore rendezvous (rank 0 serves it on
// masterPort), ProcessGroupGloo for CPU tensors and, in the CUDA flavour (MOONLIGHT_WITH_NCCL),
// ProcessGroupNCCL for CUDA tensors. Thin wrappers around c10d's collectives that wait for
// completion, turn every c10d failure into a DistributedError, and count the bytes this rank sends (for
// the communication bench). Plain C++ (no N-API).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight::dist {

struct ProcessGroupOptions {
  int rank = 0;
  int worldSize = 1;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::chrono::milliseconds timeout{30000};
  // "auto": gloo for CPU tensors plus nccl for CUDA tensors when this build has NCCL and a GPU is visible
  // (torch's "cpu:gloo,cuda:nccl"); "gloo": gloo only; "nccl": nccl only (CUDA tensors; DistributedError
  // in a build without NCCL).
  std::string backend = "auto";
};

// Whether this build compiled ProcessGroupNCCL in (the CUDA flavour) / ProcessGroupGloo (always).
bool ncclCompiled();
bool glooCompiled();

enum class ReduceOp { Sum, Avg };

class ProcessGroup {
 public:
  // Rendezvous of all ranks; DistributedError within options.timeout when the port is taken (rank 0),
  // the master cannot be reached or not every rank arrives.
  explicit ProcessGroup(const ProcessGroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int worldSize() const { return options_.worldSize; }
  // The backends in use: "gloo", "nccl" or "gloo+nccl".
  std::string backendNames() const;

  // In place on `tensor`.
  void allReduce(at::Tensor& tensor, ReduceOp op);
  // input: [worldSize·n] contiguous; output: [n] = this rank's chunk of the reduction.
  void reduceScatter(at::Tensor& output, at::Tensor& input, ReduceOp op);
  // input: [n]; output: [worldSize·n], rank r's input at [r·n, (r+1)·n).
  void allGather(at::Tensor& output, at::Tensor& input);
  void broadcast(at::Tensor& tensor, int root);
  void barrier();

  // Payload bytes this rank has sent since construction, as the collective algorithms move them: a ring
  // all-reduce sends 2·(W−1)/W of the tensor, a reduce-scatter and an all-gather (W−1)/W of the full
  // tensor, a broadcast root (W−1) copies (other ranks 0).
  int64_t bytesSent() const { return bytesSent_; }

 private:
  struct Impl;
  static bool chooseNccl(const ProcessGroupOptions& options);
  void connectGloo(const ProcessGroupOptions& options);
  void connectNccl(const ProcessGroupOptions& options);
  ProcessGroupOptions options_;
  std::unique_ptr<Impl> impl_;
  int64_t bytesSent_ = 0;
};

// The process group of this process, set by initProcessGroup() and cleared by destroyProcessGroup().
// DistributedError from currentProcessGroup() when none is initialized.
std::shared_ptr<ProcessGroup> initProcessGroup(const ProcessGroupOptions& options);
std::shared_ptr<ProcessGroup> currentProcessGroup();
bool processGroupInitialized();
void destroyProcessGroup();

}  // namespace moonlight::dist
