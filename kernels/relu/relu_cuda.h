// CUDA twins of relu.h (float32, device pointers). Same contract: forward
// overwrites y, NaN stays NaN; backward overwrites dx, gradient 0 at y == 0.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class ReluVersion {
  kV1Scalar = 1,  // the CPU loop as a grid-stride loop, one float per thread per step
  kV2Vec4 = 2,    // 16-byte loads and stores (float4) when pointers are aligned; scalar tail
};
inline constexpr ReluVersion kReluDefault = ReluVersion::kV2Vec4;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  void relu_forward(int64_t n, const float* x, float* y, ReluVersion v);
  void relu_backward(int64_t n, const float* y, const float* dy, float* dx,
                     ReluVersion v);
)
