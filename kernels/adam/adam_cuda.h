// CUDA twin of adam.h (float32, device pointers): Adam and AdamW. Same
// contract: p, m, v updated in place, g read only. Bit for bit the CPU twin:
// the same operations in the same order, each rounded on its own
// (__fadd_rn/__fmul_rn/__fdiv_rn/__fsqrt_rn on the device, where nvcc would
// otherwise fuse a * b + c into an FMA), with the bias corrections computed
// on the host in double exactly as the CPU twin computes them.
#pragma once

#include <cstdint>

#include "kernels/adam/adam.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class AdamVersion {
  kV1Scalar = 1,  // the CPU loop as a grid-stride loop, one element per thread per step
  kV2Vec4 = 2,    // 16-byte loads and stores (float4) when every pointer is aligned; scalar tail
};
inline constexpr AdamVersion kAdamDefault = AdamVersion::kV2Vec4;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
    // p, g, m, v: [n] on the device.
    void adam_step(int64_t n, float* p, const float* g, float* m, float* v,
                   const cpu::AdamParams& params, AdamVersion version);)
