// CUDA twins of maxpool2d.h (float32, device pointers). Same contract: padding
// acts as -inf, argmax is the flat index inside the plane of the first
// maximum in row-major window order (a NaN wins; of several NaNs the last),
// forward overwrites y and argmax (when non-null), backward overwrites dx.
// Both bitwise the CPU twin's results.
#pragma once

#include <cstdint>

#include "kernels/maxpool2d/maxpool2d.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
enum class MaxPool2dVersion {
  // Forward: one thread per output, the window scanned in the CPU's order.
  // Backward: one thread per input gathering, in output order, the gradients
  // of the windows that chose it (no atomics, the CPU's order of additions).
  // Already one thread per output element with coalesced stores and window
  // loads shared through L1 by neighbouring threads: no tuned version (yet).
  kV1ThreadPerElement = 1,
};
inline constexpr MaxPool2dVersion kMaxPool2dDefault = MaxPool2dVersion::kV1ThreadPerElement;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [planes, h, w] -> y: [planes, oh, ow]; argmax: int32 [planes, oh, ow] or null.
  void maxpool2d_forward(const cpu::MaxPool2dParams& p, const float* x, float* y, int32_t* argmax,
                         MaxPool2dVersion v);
  // argmax (from the forward), dy: [planes, oh, ow] -> dx: [planes, h, w].
  void maxpool2d_backward(const cpu::MaxPool2dParams& p, const int32_t* argmax, const float* dy,
                          float* dx, MaxPool2dVersion v);
)
