// Adam / AdamW update kernels. Memory-bound: 28 bytes per element (p, m, v
// read and written, g read).
#pragma once

#include <cstdint>

#include "kernels/gumbel/gumbel.h"  // rn_*: single roundings nvcc never fuses
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// The CPU twin's scalars, already in float.
struct AdamScalars {
  float step_size;     // lr / (1 - beta1^t)
  float inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
  float b1, b2, one_minus_b1, one_minus_b2, eps, wd;
  float decay;  // 1 - lr * weight_decay (AdamW)
  bool decoupled;
};

// IEEE square root, correctly rounded on both builds (std::sqrt on the CPU).
__device__ __forceinline__ float sqrt_rn(float x) {
  return __fsqrt_rn(x);
}

// One element of adam.h's rule, in the CPU twin's order of operations.
__device__ __forceinline__ void adam_update(float& p, float g, float& m, float& v,
                                            const AdamScalars& s) {
  float grad = g;
  if (s.decoupled) {
    p = rn_mul(p, s.decay);
  } else {
    grad = rn_add(grad, rn_mul(s.wd, p));
  }
  m = rn_add(rn_mul(s.b1, m), rn_mul(s.one_minus_b1, grad));
  v = rn_add(rn_mul(s.b2, v), rn_mul(rn_mul(s.one_minus_b2, grad), grad));
  p = rn_sub(p, rn_div(rn_mul(s.step_size, m), rn_add(rn_mul(sqrt_rn(v), s.inv_sqrt_bc2), s.eps)));
}

// v1: one element per thread per grid-stride step.
// p, g, m, v: [n]
__global__ void adam_step_v1(int64_t n, float* __restrict__ p, const float* __restrict__ g,
                             float* __restrict__ m, float* __restrict__ v, AdamScalars s) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float pi = p[i], mi = m[i], vi = v[i];
    adam_update(pi, g[i], mi, vi, s);
    p[i] = pi, m[i] = mi, v[i] = vi;
  }
}

// v2: four elements per thread per step through float4 (every pointer 16-byte
// aligned, checked by the launcher); the n % 4 tail one by one.
__global__ void adam_step_v2(int64_t n, float* __restrict__ p, const float* __restrict__ g,
                             float* __restrict__ m, float* __restrict__ v, AdamScalars s) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < n4; i += stride) {
    float4 pv = reinterpret_cast<const float4*>(p)[i];
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    float4 mv = reinterpret_cast<const float4*>(m)[i];
    float4 vv = reinterpret_cast<const float4*>(v)[i];
    adam_update(pv.x, gv.x, mv.x, vv.x, s);
    adam_update(pv.y, gv.y, mv.y, vv.y, s);
    adam_update(pv.z, gv.z, mv.z, vv.z, s);
    adam_update(pv.w, gv.w, mv.w, vv.w, s);
    reinterpret_cast<float4*>(p)[i] = pv;
    reinterpret_cast<float4*>(m)[i] = mv;
    reinterpret_cast<float4*>(v)[i] = vv;
  }
  for (int64_t i = 4 * n4 + first; i < n; i += stride) {
    float pi = p[i], mi = m[i], vi = v[i];
    adam_update(pi, g[i], mi, vi, s);
    p[i] = pi, m[i] = mi, v[i] = vi;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
