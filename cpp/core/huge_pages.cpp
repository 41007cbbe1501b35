#include "core/huge_pages.h"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace moonlight {

void adviseHugePages(const at::Tensor& tensor) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePageBytes = uintptr_t{2} << 20;
  if (!tensor.defined() || !tensor.device().is_cpu()) return;
  const auto begin = reinterpret_cast<uintptr_t>(tensor.data_ptr());
  const uintptr_t first = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t end = (begin + tensor.nbytes()) & ~(kHugePageBytes - 1);
  // Advice only: a kernel without transparent huge pages refuses it, and the pages stay 4 KiB.
  if (end > first) ::madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
#else
  (void)tensor;
#endif
}

}  // namespace moonlight
