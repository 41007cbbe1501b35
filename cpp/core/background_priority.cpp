#include "core/background_priority.h"

#if defined(__linux__)
#include <cerrno>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace moonlight {

void lowerThisThreadsPriorityOnce() {
#if defined(__linux__)
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  // With a thread id, PRIO_PROCESS addresses that one thread on Linux (each thread is its own task).
  const auto threadId = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, threadId);
  if (errno == 0) setpriority(PRIO_PROCESS, threadId, current + kBackgroundNiceIncrement);
#endif
}

}  // namespace moonlight
