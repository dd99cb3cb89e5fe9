// CUDA twin of sgd.h (float32, device pointers). Same contract: p and buf
// updated in place, g read only, buf may be nullptr when momentum == 0. Bit
// for bit the CPU twin: the same operations in the same order, each rounded
// on its own (__fadd_rn/__fmul_rn on the device, where nvcc would otherwise
// fuse a * b + c into an FMA), with the scalars converted to float on the
// host exactly as the CPU twin converts them.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"
#include "kernels/sgd/sgd.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class SgdVersion {
  kV1Scalar = 1,  // the CPU loop as a grid-stride loop, one element per thread per step
  kV2Vec4 = 2,    // 16-byte loads and stores (float4) when every pointer is aligned; scalar tail
};
inline constexpr SgdVersion kSgdDefault = SgdVersion::kV2Vec4;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
    // p, g, buf: [n] on the device.
    void sgd_step(int64_t n, float* p, const float* g, float* buf, const cpu::SgdParams& params,
                  bool first_step, SgdVersion v);)
