// The rendezvous of a process group, held to one deadline (options.timeout from the call).
//
// libtorch's TCPStore alone overshoots its timeout: its client retries a failed connect once more after a
// random back-off (an unreachable master fails after ≈ 2–2.5 × the timeout), and its server's wait for the
// workers counts whole seconds (≈ timeout + 1 s). So the non-zero ranks first wait until the master's port
// accepts a TCP connection (a plain socket probe, retried until the deadline), the TCPStore is made with the
// time left, and the ranks then count themselves in with the store's own `add` until all worldSize have
// joined or the deadline passes. Plain C++ (no N-API); failures are DistributedErrors.
#pragma once

#include <string>

#include <torch/csrc/distributed/c10d/Store.hpp>

#include "dist/process_group.h"

namespace moonlight::dist {

// `where` names this rank and the master in error messages.
c10::intrusive_ptr<::c10d::Store> rendezvous(const ProcessGroupOptions& options, const std::string& where);

}  // namespace moonlight::dist
