// Gumbel noise kernels. Compute-bound on the Philox rounds and the two
// portable logarithms; the store is 4 bytes per element.
#pragma once

#include <cstdint>

#include "kernels/gumbel/gumbel.h"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// v1: one element per thread per grid-stride step. Each element evaluates the
// whole 10-round Philox block its word lives in, so every block is computed
// four times (as philox_word does on the CPU).
// out: [n]
__global__ void gumbel_fill_v1(int64_t n, PhiloxDraw draw, float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = gumbel_at(draw, uint64_t(i));
}

// v2: one Philox block per thread per step, its four words giving elements
// 4b .. 4b + 3; one float4 store when `out` is 16-byte aligned (kAligned,
// checked by the launcher) and the block is whole, else scalar stores.
// out: [n]
template <bool kAligned>
__global__ void gumbel_fill_v2(int64_t n, PhiloxDraw draw, float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const PhiloxCounter w = philox_block(draw, uint64_t(b));
    float g[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) g[j] = gumbel_from_uniform(uniform_open01(w.v[j]));
    const int64_t i = 4 * b;
    if (kAligned && i + 4 <= n) {
      reinterpret_cast<float4*>(out)[b] = make_float4(g[0], g[1], g[2], g[3]);
    } else {
      for (int j = 0; j < 4 && i + j < n; ++j) out[i + j] = g[j];
    }
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
