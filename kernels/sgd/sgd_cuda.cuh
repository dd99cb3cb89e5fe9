// SGD update kernels. Memory-bound: 12 bytes per element without momentum,
// 20 with (p and buf read and written, g read).
#pragma once

#include <cstdint>

#include "kernels/gumbel/gumbel.h"  // rn_add, rn_sub, rn_mul: single roundings nvcc never fuses
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// The CPU twin's scalars, already in float.
struct SgdScalars {
  float lr, mom, damp, wd;  // damp = float(1 - dampening)
  bool momentum, nesterov, first_step;
};

// One element of sgd.h's rule; returns the new p, updates *b (momentum only).
__device__ __forceinline__ float sgd_update(float p, float g, float& b, const SgdScalars& s) {
  float d = rn_add(g, rn_mul(s.wd, p));
  if (s.momentum) {
    b = s.first_step ? d : rn_add(rn_mul(s.mom, b), rn_mul(s.damp, d));
    d = s.nesterov ? rn_add(d, rn_mul(s.mom, b)) : b;
  }
  return rn_sub(p, rn_mul(s.lr, d));
}

// v1: one element per thread per grid-stride step.
// p, g, buf: [n]; buf unused (may be null) without momentum.
__global__ void sgd_step_v1(int64_t n, float* __restrict__ p, const float* __restrict__ g,
                            float* __restrict__ buf, SgdScalars s) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float b = s.momentum && !s.first_step ? buf[i] : 0.f;
    p[i] = sgd_update(p[i], g[i], b, s);
    if (s.momentum) buf[i] = b;
  }
}

// v2: four elements per thread per step through float4 (every pointer used
// 16-byte aligned, checked by the launcher); the n % 4 tail one by one.
__global__ void sgd_step_v2(int64_t n, float* __restrict__ p, const float* __restrict__ g,
                            float* __restrict__ buf, SgdScalars s) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool load_buf = s.momentum && !s.first_step;
  for (int64_t i = first; i < n4; i += stride) {
    const float4 pv = reinterpret_cast<const float4*>(p)[i];
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    float4 bv =
        load_buf ? reinterpret_cast<const float4*>(buf)[i] : make_float4(0.f, 0.f, 0.f, 0.f);
    const float4 out =
        make_float4(sgd_update(pv.x, gv.x, bv.x, s), sgd_update(pv.y, gv.y, bv.y, s),
                    sgd_update(pv.z, gv.z, bv.z, s), sgd_update(pv.w, gv.w, bv.w, s));
    reinterpret_cast<float4*>(p)[i] = out;
    if (s.momentum) reinterpret_cast<float4*>(buf)[i] = bv;
  }
  for (int64_t i = 4 * n4 + first; i < n; i += stride) {
    float b = load_buf ? buf[i] : 0.f;
    p[i] = sgd_update(p[i], g[i], b, s);
    if (s.momentum) buf[i] = b;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
