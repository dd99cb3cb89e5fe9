// Cross-entropy kernels (hard labels and soft targets), forward and backward
// side by side. All row quantities in double, as on the CPU:
//   lse_i  = m_i + log sum_k exp(x_ik - m_i),  m_i = max_k x_ik
//   hard:  row_i = lse_i - x_i,y_i
//          dx_ik = scale (exp(x_ik - lse_i) - [k == y_i])
//   soft:  row_i = sum_k t_ik (lse_i - x_ik)
//          dx_ik = scale (exp(x_ik - lse_i) sum_k t_ik - t_ik),  dt_ik = scale (lse_i - x_ik)
// The row values go to a buffer that sum_partials (reduce_cuda.h) totals.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/reduce/group_reduce_cuda.cuh"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// ---- labels -----------------------------------------------------------------

// first: [1], preset to n. Integer atomicMin: the smallest bad row whatever
// the order (deterministic).
template <class I>
__global__ void ce_first_bad_label(int64_t n, int64_t c, const I* __restrict__ labels,
                                   long long* first) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    if (labels[i] < 0 || int64_t(labels[i]) >= c) atomicMin(first, (long long)i);
  }
}

template <class I>
__device__ __forceinline__ bool label_ok(I y, int64_t c) {
  return y >= 0 && int64_t(y) < c;
}

// ---- v1: one thread per row (the CPU loops) ------------------------------------

// The CPU's row_logsumexp: m starts at x[0] (std::max order), sums ascending.
__device__ __forceinline__ double row_lse_v1(int64_t c, const float* x) {
  double m = double(x[0]);
  for (int64_t k = 1; k < c; ++k) m = larger(m, double(x[k]));
  double s = 0.0;
  for (int64_t k = 0; k < c; ++k) s += exp(double(x[k]) - m);
  return m + log(s);
}

template <class I>
__global__ void __launch_bounds__(256)
    ce_forward_v1(int64_t n, int64_t c, const float* __restrict__ logits,
                  const I* __restrict__ labels, double* __restrict__ lse,
                  double* __restrict__ rows) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const float* x = logits + i * c;
    const double l = row_lse_v1(c, x);
    lse[i] = l;
    const I y = labels[i];
    rows[i] = label_ok(y, c) ? l - double(x[y]) : double(NAN);
  }
}

__global__ void __launch_bounds__(256)
    ce_soft_forward_v1(int64_t n, int64_t c, const float* __restrict__ logits,
                       const float* __restrict__ target, double* __restrict__ lse,
                       double* __restrict__ rows) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const float* x = logits + i * c;
    const float* t = target + i * c;
    const double l = row_lse_v1(c, x);
    lse[i] = l;
    double s = 0.0;
    for (int64_t k = 0; k < c; ++k) s += double(t[k]) * (l - double(x[k]));
    rows[i] = s;
  }
}

template <class I>
__global__ void __launch_bounds__(256)
    ce_backward_v1(int64_t n, int64_t c, const float* __restrict__ logits,
                   const I* __restrict__ labels, const double* __restrict__ lse,
                   const float* __restrict__ dloss, float* __restrict__ dlogits) {
  const double scale = double(dloss[0]) / double(n);
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const float* x = logits + i * c;
    float* dx = dlogits + i * c;
    for (int64_t k = 0; k < c; ++k) dx[k] = float(scale * exp(double(x[k]) - lse[i]));
    const I y = labels[i];
    if (label_ok(y, c)) dx[y] = float(scale * (exp(double(x[y]) - lse[i]) - 1.0));
  }
}

__global__ void __launch_bounds__(256)
    ce_soft_backward_v1(int64_t n, int64_t c, const float* __restrict__ logits,
                        const float* __restrict__ target, const double* __restrict__ lse,
                        const float* __restrict__ dloss, float* __restrict__ dlogits,
                        float* __restrict__ dtarget) {
  const double scale = double(dloss[0]) / double(n);
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const float* x = logits + i * c;
    const float* t = target + i * c;
    if (dlogits != nullptr) {
      double tsum = 0.0;
      for (int64_t k = 0; k < c; ++k) tsum += double(t[k]);
      float* dx = dlogits + i * c;
      for (int64_t k = 0; k < c; ++k)
        dx[k] = float(scale * (exp(double(x[k]) - lse[i]) * tsum - double(t[k])));
    }
    if (dtarget != nullptr) {
      float* dt = dtarget + i * c;
      for (int64_t k = 0; k < c; ++k) dt[k] = float(scale * (lse[i] - double(x[k])));
    }
  }
}

// ---- v2: a group of kGroup threads per row (a warp, or the block) --------------

// lse of one row by the group: thread g takes k = g, g + kGroup, ...
template <int kGroup>
__device__ __forceinline__ double row_lse_v2(int64_t c, const float* x,
                                             GroupReduce<kGroup>& group) {
  const int g = int(threadIdx.x) % kGroup;
  double m = -INFINITY;
  for (int64_t k = g; k < c; k += kGroup) m = larger(m, double(x[k]));
  m = group.max(m);
  double s = 0.0;
  for (int64_t k = g; k < c; k += kGroup) s += exp(double(x[k]) - m);
  return m + log(group.sum(s));
}

template <class I, int kGroup>
__global__ void __launch_bounds__(256)
    ce_forward_v2(int64_t n, int64_t c, const float* __restrict__ logits,
                  const I* __restrict__ labels, double* __restrict__ lse,
                  double* __restrict__ rows) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  for (int64_t i = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; i < n;
       i += int64_t(gridDim.x) * kPerBlock) {
    const float* x = logits + i * c;
    const double l = row_lse_v2<kGroup>(c, x, group);
    if (threadIdx.x % kGroup == 0) {
      lse[i] = l;
      const I y = labels[i];
      rows[i] = label_ok(y, c) ? l - double(x[y]) : double(NAN);
    }
  }
}

template <int kGroup>
__global__ void __launch_bounds__(256)
    ce_soft_forward_v2(int64_t n, int64_t c, const float* __restrict__ logits,
                       const float* __restrict__ target, double* __restrict__ lse,
                       double* __restrict__ rows) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup;
  for (int64_t i = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; i < n;
       i += int64_t(gridDim.x) * kPerBlock) {
    const float* x = logits + i * c;
    const float* t = target + i * c;
    const double l = row_lse_v2<kGroup>(c, x, group);
    double s = 0.0;
    for (int64_t k = g; k < c; k += kGroup) s += double(t[k]) * (l - double(x[k]));
    s = group.sum(s);
    if (g == 0) {
      lse[i] = l;
      rows[i] = s;
    }
  }
}

// Hard backward, v2: one thread per logit (the label test is per element).
template <class I>
__global__ void __launch_bounds__(256)
    ce_backward_v2(int64_t n, int64_t c, const float* __restrict__ logits,
                   const I* __restrict__ labels, const double* __restrict__ lse,
                   const float* __restrict__ dloss, float* __restrict__ dlogits) {
  const double scale = double(dloss[0]) / double(n);
  const int64_t total = n * c, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const int64_t i = e / c, k = e % c;
    const double p = exp(double(logits[e]) - lse[i]);
    dlogits[e] = int64_t(labels[i]) == k ? float(scale * (p - 1.0)) : float(scale * p);
  }
}

template <int kGroup>
__global__ void __launch_bounds__(256)
    ce_soft_backward_v2(int64_t n, int64_t c, const float* __restrict__ logits,
                        const float* __restrict__ target, const double* __restrict__ lse,
                        const float* __restrict__ dloss, float* __restrict__ dlogits,
                        float* __restrict__ dtarget) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup;
  const double scale = double(dloss[0]) / double(n);
  for (int64_t i = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; i < n;
       i += int64_t(gridDim.x) * kPerBlock) {
    const float* x = logits + i * c;
    const float* t = target + i * c;
    const double l = lse[i];
    if (dlogits != nullptr) {  // uniform: the whole group takes the branch or none
      double tsum = 0.0;
      for (int64_t k = g; k < c; k += kGroup) tsum += double(t[k]);
      tsum = group.sum(tsum);
      float* dx = dlogits + i * c;
      for (int64_t k = g; k < c; k += kGroup)
        dx[k] = float(scale * (exp(double(x[k]) - l) * tsum - double(t[k])));
    }
    if (dtarget != nullptr) {
      float* dt = dtarget + i * c;
      for (int64_t k = g; k < c; k += kGroup) dt[k] = float(scale * (l - double(x[k])));
    }
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
