// CUDA twins of avgpool2d.h (float32, device pointers). Same contract:
// count_include_pad = true (every window divides by kernel * kernel), forward
// overwrites y, backward overwrites dx. Both bitwise the CPU twin's results:
// each sum starts from 0 and adds in the CPU's order.
#pragma once

#include <cstdint>

#include "kernels/avgpool2d/avgpool2d.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
enum class AvgPool2dVersion {
  // Forward: one thread per output, its window summed in row-major order.
  // Backward: one thread per input gathering dy / (kernel * kernel) from the
  // windows that cover it, in output order (no atomics). One thread per
  // element, coalesced stores, neighbours share loads through L1: no tuned
  // version (yet).
  kV1ThreadPerElement = 1,
};
inline constexpr AvgPool2dVersion kAvgPool2dDefault = AvgPool2dVersion::kV1ThreadPerElement;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [planes, h, w] -> y: [planes, oh, ow].
  void avgpool2d_forward(const cpu::AvgPool2dParams& p, const float* x, float* y,
                         AvgPool2dVersion v);
  // dy: [planes, oh, ow] -> dx: [planes, h, w].
  void avgpool2d_backward(const cpu::AvgPool2dParams& p, const float* dy, float* dx,
                          AvgPool2dVersion v);
)
