// CUDA twins of softmax.h (float32, device pointers). Same contract: x viewed
// as [outer, dim, inner], softmax / log_softmax of x * inv_temperature along
// dim; forward overwrites y, backward overwrites dx. The arithmetic is the
// CPU twin's (float u = x * inv_t with no fused multiply-add, max of u, exp in
// float, row sums in double, the same final roundings); v1 also adds in the
// CPU's order.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"
#include "kernels/softmax/softmax.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class SoftmaxVersion {
  // One thread per softmax row, the CPU loop (ascending d). Coalesced when
  // inner > 1 (neighbouring threads own neighbouring columns); when inner
  // == 1 each thread walks its own row: uncoalesced.
  kV1Thread = 1,
  // inner == 1: a warp per row (dim <= 1024), or a 256-thread block per row
  // (longer rows); each thread takes d = g, g + 32 (or 256), ..., so a warp
  // reads 32 neighbouring floats; row max and row sums by the fixed shuffle
  // tree of group_reduce_cuda.cuh (sums differ from the CPU's order: about
  // 1 ulp). inner > 1 keeps v1's kernel.
  kV2Warp = 2,
};
inline constexpr SoftmaxVersion kSoftmaxDefault = SoftmaxVersion::kV2Warp;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x, y: [outer, dim, inner].
  void softmax_forward(const cpu::SoftmaxShape& s, float inv_temperature, const float* x, float* y,
                       SoftmaxVersion v);
  void log_softmax_forward(const cpu::SoftmaxShape& s, float inv_temperature, const float* x,
                           float* y, SoftmaxVersion v);
  // y: the forward's output; dy, dx: [outer, dim, inner].
  void softmax_backward(const cpu::SoftmaxShape& s, float inv_temperature, const float* y,
                        const float* dy, float* dx, SoftmaxVersion v);
  void log_softmax_backward(const cpu::SoftmaxShape& s, float inv_temperature, const float* y,
                            const float* dy, float* dx, SoftmaxVersion v);
)
