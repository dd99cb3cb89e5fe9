// CUDA twins of elementwise.h (float32, device pointers; plans and shapes on
// the host). Same contracts: every output is overwritten, the plan is the one
// cpu::plan_broadcast made (passed to the kernels by value), and each output
// element is the same single float operation as on the CPU, so results are
// bitwise the CPU's. sum_to_shape runs reduce_sum (reduce_cuda.h).
#pragma once

#include <cstdint>

#include "kernels/elementwise/elementwise.h"
#include "kernels/reduce/reduce_cuda.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class ElementwiseVersion {
  // One element per thread per grid-stride step; a broadcast output element
  // finds its inputs by dividing its index by every plan extent.
  kV1Scalar = 1,
  // Same shapes and scalars: float4 loads and stores when all pointers are
  // 16-byte aligned, scalar tail. Broadcast: a 2D grid of (output rows,
  // columns of the innermost plan dim): the row's input offsets are found
  // once per row, not per element, and with float4 when the innermost extent
  // is a multiple of 4 and the pointers aligned (a stride-0 input is one
  // scalar per row; expand with a divisor stays scalar: four IEEE divisions
  // per float4 made ptxas spill).
  kV2Vec4 = 2,
};
inline constexpr ElementwiseVersion kElementwiseDefault = ElementwiseVersion::kV2Vec4;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // a, b, out: [n]. out = a op b.
  void binary_same(cpu::BinaryOp op, int64_t n, const float* a, const float* b, float* out,
                   ElementwiseVersion v);
  // out: the plan's output, contiguous; a, b read through the plan's strides.
  void binary_broadcast(cpu::BinaryOp op, const cpu::BroadcastPlan& plan, const float* a,
                        const float* b, float* out, ElementwiseVersion v);
  // x, y: [n]. y = x * s, y = x + s.
  void mul_scalar(int64_t n, const float* x, float s, float* y, ElementwiseVersion v);
  void add_scalar(int64_t n, const float* x, float s, float* y, ElementwiseVersion v);
  // y (the plan's output) = x through plan.a_stride, / divisor (1: a copy).
  void expand(const cpu::BroadcastPlan& plan, const float* x, float divisor, float* y,
              ElementwiseVersion v);
  // x: [shape...], y: [target...] (right-aligned, extents equal or 1): x
  // summed over the broadcast dims (shape and target on the host).
  void sum_to_shape(int ndim, const int64_t* shape, int target_ndim, const int64_t* target,
                    const float* x, float* y, ReduceVersion v);
)
