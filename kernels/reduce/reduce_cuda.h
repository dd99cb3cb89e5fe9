// CUDA twins of reduce.h (float32 data, device pointers; shapes on the host).
// Same contract: y = (sum of x over the reduced dims) / divisor, overwritten;
// an empty reduction gives 0 / divisor. Plus sum_partials, the fixed-order
// total the losses finish with.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class ReduceVersion {
  // One thread per output running the CPU twin's loop (chunks of
  // kFixedChunk, double): bitwise the CPU's result.
  kV1PerOutput = 1,
  // Innermost dim kept: one thread per (output, chunk), the CPU's order, so
  // still bitwise the CPU's result, with long reductions spread over chunks.
  // Innermost dim reduced: a warp (R <= 256) or a 256-thread block per
  // (output, 4096-element chunk) adding by a fixed shuffle tree, then one
  // thread per output adds the chunk sums in order (differs from the CPU
  // by the double sum's order: about 1 ulp of the float result).
  // sum_partials: one 256-thread block tree instead of one thread.
  kV2Block = 2,
};
inline constexpr ReduceVersion kReduceDefault = ReduceVersion::kV2Block;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [shape...] contiguous, bit d of reduced_mask reduces dim d (ndim <=
  // cpu::kMaxReduceDims); y: x's shape with the reduced extents 1.
  void reduce_sum(int ndim, const int64_t* shape, uint32_t reduced_mask, const float* x, float* y,
                  double divisor, ReduceVersion v);
  // parts: [n] doubles; out: [1]. out[0] = float(sum(parts) / divisor), the
  // parts added in index order (v1) or by a fixed block tree (v2).
  void sum_partials(int64_t n, const double* parts, double divisor, float* out, ReduceVersion v);
)
