// CUDA twins of random.h (float32, device pointers). Same contract: element i
// depends only on (draw, i); the output is overwritten.
//  - uniform_fill: bit for bit the CPU twin (lo + (hi - lo) * u with each
//    operation rounded on its own, __fadd_rn/__fmul_rn on the device, so nvcc
//    cannot fuse it into one FMA as it would by default).
//  - normal_fill: the same double-precision Box-Muller as the CPU twin. The
//    device's double log/sin/cos are CUDA's (at most 1-2 ulp in double), not
//    glibc's, so on a GPU z may differ from the CPU's in its last float bit
//    when the double result lies within a few double ulps of a float rounding
//    boundary (about one element in 10^8); everything after is rounded the
//    same. Under the emulator the same libm runs and the bits are equal.
#pragma once

#include <cstdint>

#include "kernels/common/philox.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class RandomVersion {
  kV1PerElement = 1,  // the CPU loop as a grid-stride loop: one element, one Philox block each
  kV2PerBlock = 2,    // one Philox block (4 words) per thread: 4x fewer rounds (normal: 2x fewer
                      // logs, sin and cos from one angle), float4 stores
};
inline constexpr RandomVersion kRandomDefault = RandomVersion::kV2PerBlock;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
    // out: [n] on the device. out[i] = lo + (hi - lo) * u_i.
    void uniform_fill(int64_t n, const PhiloxDraw& draw, float lo, float hi, float* out,
                      RandomVersion v);
    // out: [n] on the device. out[i] = mean + stddev * z_i (Box-Muller, random.h).
    void normal_fill(int64_t n, const PhiloxDraw& draw, float mean, float stddev, float* out,
                     RandomVersion v);)
