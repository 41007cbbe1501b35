// The CPU priority of work run off the JS thread.
#pragma once

namespace moonlight {

// Model creation, loading, training steps and generation run on libuv's worker threads and, through them, on
// libtorch's intra-op threads: on a machine with few cores they take every core for seconds at a time, and the
// JS thread and V8's garbage-collector threads wait for a core. Measured on 2 vCPUs (kernel 6.18) while a
// Moonlight-width model is made in a Jest worker (a ~150 MB heap that V8 collects meanwhile): event-loop stalls
// of 56–90 ms at equal priority, fewer and shorter at nice +5 — though a memory-reducing compaction of that heap
// still paused the thread for 52–97 ms when it fell during a load (25–35 ms on an idle machine): lower priority
// shortens the collector's wait for a core, not the collection itself. A worker thread lowers its own priority once
// (Linux: nice is per thread, and the threads it starts later, such as its OpenMP team, inherit it); when the JS
// thread sleeps the workers still get every core, so throughput on an otherwise idle machine is unchanged.
// A no-op elsewhere, and where the priority cannot be changed.
constexpr int kBackgroundNiceIncrement = 5;
void lowerThisThreadsPriorityOnce();

}  // namespace moonlight
