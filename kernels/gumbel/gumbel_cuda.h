// CUDA twin of gumbel.h (float32, device pointer). Same contract: out[i] =
// gumbel_at(draw, i), overwritten, bit for bit the CPU twin's values (the
// transform is gumbel.h's MT_HD code, whose device path rounds every step
// with __fadd_rn/__fmul_rn/__fdiv_rn, so nvcc cannot contract it into FMAs).
#pragma once

#include <cstdint>

#include "kernels/common/philox.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class GumbelVersion {
  kV1PerElement = 1,  // the CPU loop as a grid-stride loop: one element, one Philox block each
  kV2PerBlock = 2,    // one Philox block (4 words) per thread: 4x fewer rounds, float4 stores
};
inline constexpr GumbelVersion kGumbelDefault = GumbelVersion::kV2PerBlock;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
    // out: [n] on the device.
    void gumbel_fill(int64_t n, const PhiloxDraw& draw, float* out, GumbelVersion v);)
