// Transparent huge pages for large host tensors that are about to be written for the first time.
#pragma once

#include <ATen/ATen.h>

namespace moonlight {

// Asks Linux to back the 2 MiB-aligned interior of a CPU tensor's memory with transparent huge pages
// (madvise(MADV_HUGEPAGE); honoured where /sys/kernel/mm/transparent_hugepage/enabled is "madvise" or
// "always"). Call it before the memory is first touched. Filling a model's weights otherwise takes one page
// fault per 4 KiB: at Moonlight's width, 650 k faults per 2.5 GiB, a large share of a load's time, and while
// two threads fault at that rate the JS thread of the same process measured 35–75 ms late on a 5 ms timer
// (kernel 6.18, 2 vCPUs). With huge pages it is 512 times fewer faults. Only whole huge pages inside the
// tensor are advised, so no memory beyond the tensor is committed. A no-op elsewhere and for small tensors.
void adviseHugePages(const at::Tensor& tensor);

}  // namespace moonlight
