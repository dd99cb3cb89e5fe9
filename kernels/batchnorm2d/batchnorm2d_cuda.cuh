// Batch-norm kernels. Memory-bound: the training forward reads x twice
// (statistics, then normalising) and writes y; the backward reads x and dy
// twice and writes dx. What the versions change is how a channel's reduction
// is spread over the GPU (see batchnorm2d_cuda.h).
//
// Layout: x [N, C, H, W] seen per channel c as M = N * hw values, value
// number j (0 <= j < M) at plane n = j / hw, offset j % hw. 32-bit j (the
// launchers check M < 2^30), 64-bit flat offsets.
//
// Products that feed an addition go through __fmul_rn / bn_dmul wherever the
// CPU twin's bits are to be matched: nvcc would otherwise contract a * b + c
// into one fma, which the CPU twin (ISO C++, no contraction) never does.
// Elsewhere fmaf is explicit, so the emulator and the GPU round alike.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// A double product nvcc may not fuse with a following addition.
__device__ __forceinline__ double bn_dmul(double a, double b) {
#if SIMT_EMULATED
  return a * b;  // the host build never contracts (ISO mode)
#else
  return __dmul_rn(a, b);
#endif
}

// Flat offset of value j of channel c.
__device__ __forceinline__ int64_t bn_at(int j, int hw, int C, int c) {
  const int n = j / hw;
  return (int64_t(n) * C + c) * hw + (j - n * hw);
}

// ---- v1: the CPU loop, one thread per channel ------------------------------

// The CPU twin's traversal (for_channel in batchnorm2d_cpu.cpp): plane by
// plane, f(offset, lane) with lane = position mod 4, constant lanes so the
// four partial sums stay in registers.
template <class F>
__device__ __forceinline__ void bn_cpu_order(int N, int C, int hw, int c, F&& f) {
  for (int n = 0; n < N; ++n) {
    const int64_t base = (int64_t(n) * C + c) * hw;
    int i = 0;
    for (; i + 4 <= hw; i += 4) {
      f(base + i, 0);
      f(base + i + 1, 1);
      f(base + i + 2, 2);
      f(base + i + 3, 3);
    }
    // The tail starts at a multiple of 4: its lanes are 0, 1, 2.
    if (i < hw) f(base + i, 0);
    if (i + 1 < hw) f(base + i + 1, 1);
    if (i + 2 < hw) f(base + i + 2, 2);
  }
}

__device__ __forceinline__ double bn_total(const double (&lanes)[4]) {
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// x, y: [N, C, hw]; the rest [C]. Exactly the CPU twin's arithmetic.
__global__ void bn_forward_train_v1(int N, int C, int hw, const float* __restrict__ x,
                                    const float* __restrict__ weight,
                                    const float* __restrict__ bias, double momentum, double eps,
                                    float* __restrict__ y, float* __restrict__ save_mean,
                                    float* __restrict__ save_invstd, float* running_mean,
                                    float* running_var) {
  const int64_t m = int64_t(N) * hw;
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < C; c += gridDim.x * blockDim.x) {
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    bn_cpu_order(N, C, hw, c, [&](int64_t k, int lane) { sum[lane] += double(x[k]); });
    const double mean = bn_total(sum) / double(m);
    double sq[4] = {0.0, 0.0, 0.0, 0.0};
    bn_cpu_order(N, C, hw, c, [&](int64_t k, int lane) {
      const double d = double(x[k]) - mean;
      sq[lane] += bn_dmul(d, d);
    });
    const double var = bn_total(sq) / double(m);
    const double invstd = 1.0 / sqrt(var + eps);
    save_mean[c] = float(mean);
    save_invstd[c] = float(invstd);
    const float tmean = float(mean);
    const float scale = float(invstd * double(weight[c]));
    const float shift = bias[c];
    bn_cpu_order(N, C, hw, c,
                 [&](int64_t k, int) { y[k] = __fmul_rn(x[k] - tmean, scale) + shift; });
    if (running_mean != nullptr) {
      const double unbiased = var * double(m) / double(m - 1);
      running_mean[c] =
          float(bn_dmul(1.0 - momentum, double(running_mean[c])) + bn_dmul(momentum, mean));
      running_var[c] =
          float(bn_dmul(1.0 - momentum, double(running_var[c])) + bn_dmul(momentum, unbiased));
    }
  }
}

// x, dy, dx: [N, C, hw]; the rest [C]. Exactly the CPU twin's arithmetic.
__global__ void bn_backward_v1(int N, int C, int hw, bool batch_stats, const float* __restrict__ x,
                               const float* __restrict__ dy, const float* __restrict__ mean,
                               const float* __restrict__ invstd, const float* __restrict__ weight,
                               float* __restrict__ dx, float* dweight, float* dbias) {
  const double m = double(int64_t(N) * hw);
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < C; c += gridDim.x * blockDim.x) {
    const double mu = double(mean[c]);
    const double is = double(invstd[c]);
    double sdy[4] = {0.0, 0.0, 0.0, 0.0};
    double sdyx[4] = {0.0, 0.0, 0.0, 0.0};
    bn_cpu_order(N, C, hw, c, [&](int64_t k, int lane) {
      sdy[lane] += double(dy[k]);
      sdyx[lane] += bn_dmul(double(dy[k]), double(x[k]) - mu);
    });
    const double sum_dy = bn_total(sdy);
    const double sum_dy_xc = bn_total(sdyx);
    dbias[c] += float(sum_dy);
    dweight[c] += float(sum_dy_xc * is);
    const double wk = double(weight[c]) * is;
    const float a = float(wk);
    if (!batch_stats) {
      bn_cpu_order(N, C, hw, c, [&](int64_t k, int) { dx[k] = a * dy[k]; });
      continue;
    }
    const float b = float(wk * is * is * sum_dy_xc / m);
    const float d = float(wk * sum_dy / m);
    const float tmu = mean[c];
    bn_cpu_order(N, C, hw, c, [&](int64_t k, int) {
      dx[k] = __fmul_rn(a, dy[k]) - __fmul_rn(b, x[k] - tmu) - d;
    });
  }
}

// ---- evaluation: no reduction ---------------------------------------------

// save_invstd = 1 / sqrt(running_var + eps) in double, as the CPU twin; and
// scale = invstd * weight, rounded once: the product of two floats is exact
// in double, so float(double(a) * double(b)) is __fmul_rn(a, b).
__global__ void bn_eval_coefs(int C, const float* __restrict__ weight,
                              const float* __restrict__ running_var, double eps,
                              float* __restrict__ save_invstd, float* __restrict__ scale) {
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < C; c += gridDim.x * blockDim.x) {
    const float is = float(1.0 / sqrt(double(running_var[c]) + eps));
    save_invstd[c] = is;
    scale[c] = __fmul_rn(is, weight[c]);
  }
}

// v1 evaluation: one thread per value, flat grid-stride loop.
__global__ void bn_eval_apply_v1(int64_t total, int C, int hw, const float* __restrict__ x,
                                 const float* __restrict__ mean, const float* __restrict__ scale,
                                 const float* __restrict__ shift, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < total; k += stride) {
    const int c = int((k / hw) % C);
    y[k] = __fmul_rn(x[k] - mean[c], scale[c]) + shift[c];
  }
}

// ---- v2 and v3: slices of a channel, Welford states, fixed-order merges -----

// Block (c, s) of a (C, S) grid owns values [s * chunk, min((s + 1) * chunk, M))
// of channel c; thread t of it the values t, t + kBlock, ... of that range,
// or, with quads (hw % 4 == 0 and 16-byte aligned tensors, chunk % 4 == 0),
// the quads t, t + kBlock, ... read as float4. f1(offset) / f4(offset of the
// quad's first value) in that order: a thread's order depends on the shape
// alone, never on the schedule.
template <int kBlock, class F1, class F4>
__device__ __forceinline__ void bn_for_slice(int C, int c, int hw, int begin, int end, bool quads,
                                             F1&& f1, F4&& f4) {
  const int t = int(threadIdx.x);
  if (quads) {
    for (int j = begin + 4 * t; j < end; j += 4 * kBlock) f4(bn_at(j, hw, C, c));
  } else {
    for (int j = begin + t; j < end; j += kBlock) f1(bn_at(j, hw, C, c));
  }
}

// Welford's running state of a set of values: count, mean and M2 (the sum of
// squared deviations from the mean). Updating it value by value avoids the
// cancellation of sum(x^2) - sum(x)^2 / M when |mean| >> std.
struct BnStat {
  float mean;
  float m2;
  int count;
};

__device__ __forceinline__ void bn_push(BnStat& s, float v) {
  s.count += 1;
  const float d = v - s.mean;
  s.mean += d / float(s.count);
  s.m2 = fmaf(d, v - s.mean, s.m2);
}

// Chan, Golub & LeVeque's merge of two disjoint sets' states; `a` holds the
// lower-numbered values. An empty state is the identity.
__device__ __forceinline__ BnStat bn_merge(const BnStat& a, const BnStat& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  const int n = a.count + b.count;
  const float fb = float(b.count) / float(n);
  const float d = b.mean - a.mean;
  BnStat r;
  r.count = n;
  r.mean = fmaf(d, fb, a.mean);
  r.m2 = fmaf(__fmul_rn(d, d), __fmul_rn(float(a.count), fb), a.m2 + b.m2);
  return r;
}

// Tree over the 32 lanes: lane l takes lane l + 16, then l + 8, ... 1. The
// result, in lane 0, merges the lanes in a fixed pairing.
__device__ __forceinline__ BnStat bn_warp_merge(BnStat s) {
  SIMT_UNROLL
  for (int off = 16; off > 0; off >>= 1) {
    BnStat o;
    o.mean = __shfl_down_sync(0xffffffffu, s.mean, off);
    o.m2 = __shfl_down_sync(0xffffffffu, s.m2, off);
    o.count = __shfl_down_sync(0xffffffffu, s.count, off);
    s = bn_merge(s, o);
  }
  return s;
}

// The block's merged state, in thread 0: each warp's tree, then warp 0's tree
// over the warps' results. Every thread of the block must call it.
template <int kBlock>
__device__ __forceinline__ BnStat bn_block_merge(BnStat s) {
  static_assert(kBlock % 32 == 0 && kBlock <= 1024, "whole warps, at most 32");
  constexpr int kWarps = kBlock / 32;
  SIMT_SHARED(float, w_mean, [kWarps]);
  SIMT_SHARED(float, w_m2, [kWarps]);
  SIMT_SHARED(int, w_count, [kWarps]);
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  s = bn_warp_merge(s);
  if (lane == 0) {
    w_mean[warp] = s.mean;
    w_m2[warp] = s.m2;
    w_count[warp] = s.count;
  }
  __syncthreads();  // the warps' states, before warp 0 reads them
  if (warp == 0) {
    BnStat t{0.f, 0.f, 0};
    if (lane < kWarps) t = BnStat{w_mean[lane], w_m2[lane], w_count[lane]};
    s = bn_warp_merge(t);
  }
  return s;
}

// This thread's Welford state over its slice of block (c, s)'s range.
template <int kBlock>
__device__ __forceinline__ BnStat bn_thread_stat(const float* __restrict__ x, int C, int c, int hw,
                                                 int begin, int end, bool quads) {
  BnStat st{0.f, 0.f, 0};
  bn_for_slice<kBlock>(
      C, c, hw, begin, end, quads, [&](int64_t k) { bn_push(st, x[k]); },
      [&](int64_t k) {
        const float4 v = *reinterpret_cast<const float4*>(x + k);
        bn_push(st, v.x);
        bn_push(st, v.y);
        bn_push(st, v.z);
        bn_push(st, v.w);
      });
  return st;
}

// From a channel's merged state: save_mean, save_invstd, the running update
// (in double, the CPU twin's formulas), and the (mean, scale) y needs.
__device__ __forceinline__ void bn_finish_stats(int c, const BnStat& s,
                                                const float* __restrict__ weight, double momentum,
                                                double eps, float* __restrict__ save_mean,
                                                float* __restrict__ save_invstd,
                                                float* running_mean, float* running_var,
                                                float& mean_out, float& scale_out) {
  const double m = double(s.count);
  const double mean = double(s.mean);
  const double var = double(s.m2) / m;
  const double invstd = 1.0 / sqrt(var + eps);
  save_mean[c] = s.mean;
  save_invstd[c] = float(invstd);
  mean_out = s.mean;
  scale_out = float(invstd * double(weight[c]));
  if (running_mean != nullptr) {
    // PyTorch's rule: the running variance takes the unbiased batch variance.
    const double unbiased = var * m / (m - 1.0);
    running_mean[c] =
        float(bn_dmul(1.0 - momentum, double(running_mean[c])) + bn_dmul(momentum, mean));
    running_var[c] =
        float(bn_dmul(1.0 - momentum, double(running_var[c])) + bn_dmul(momentum, unbiased));
  }
}

// y = (x - mean) * scale + shift over block (c, s)'s range.
template <int kBlock>
__device__ __forceinline__ void bn_normalize_slice(const float* __restrict__ x, int C, int c,
                                                   int hw, int begin, int end, bool quads,
                                                   float mean, float scale, float shift,
                                                   float* __restrict__ y) {
  const auto norm = [&](float v) { return __fmul_rn(v - mean, scale) + shift; };
  bn_for_slice<kBlock>(
      C, c, hw, begin, end, quads, [&](int64_t k) { y[k] = norm(x[k]); },
      [&](int64_t k) {
        const float4 v = *reinterpret_cast<const float4*>(x + k);
        *reinterpret_cast<float4*>(y + k) = make_float4(norm(v.x), norm(v.y), norm(v.z), norm(v.w));
      });
}

// v2 training forward: grid (C), one block per channel, statistics and y in
// one kernel (the second read of the channel mostly hits L2).
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_forward_train_v2(int N, int C, int hw, bool quads, const float* __restrict__ x,
                        const float* __restrict__ weight, const float* __restrict__ bias,
                        double momentum, double eps, float* __restrict__ y,
                        float* __restrict__ save_mean, float* __restrict__ save_invstd,
                        float* running_mean, float* running_var) {
  SIMT_SHARED(float, coef, [2]);  // mean, scale
  const int c = int(blockIdx.x);
  const int m = N * hw;
  const BnStat s = bn_block_merge<kBlock>(bn_thread_stat<kBlock>(x, C, c, hw, 0, m, quads));
  if (threadIdx.x == 0) {
    bn_finish_stats(c, s, weight, momentum, eps, save_mean, save_invstd, running_mean, running_var,
                    coef[0], coef[1]);
  }
  __syncthreads();  // coef, before every thread normalises with it
  bn_normalize_slice<kBlock>(x, C, c, hw, 0, m, quads, coef[0], coef[1], bias[c], y);
}

// v3 step 1: grid (C, S); block (c, s) writes its range's Welford state to
// part_*[c * S + s].
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_stats_partial(int N, int C, int hw, int chunk, bool quads, const float* __restrict__ x,
                     float* __restrict__ part_mean, float* __restrict__ part_m2,
                     int* __restrict__ part_count) {
  const int c = int(blockIdx.x), s = int(blockIdx.y);
  const int m = N * hw;
  const int begin = s * chunk;
  const int end = m - begin < chunk ? m : begin + chunk;
  const BnStat st = bn_block_merge<kBlock>(bn_thread_stat<kBlock>(x, C, c, hw, begin, end, quads));
  if (threadIdx.x == 0) {
    const int64_t i = int64_t(c) * gridDim.y + s;
    part_mean[i] = st.mean;
    part_m2[i] = st.m2;
    part_count[i] = st.count;
  }
}

// v3 step 2: one warp per channel merges its S partial states (lane l the
// partials l, l + 32, ... in order, then the warp's tree) and finishes the
// channel. scale: [C] workspace for step 3.
__global__ void bn_stats_finish(int C, int S, const float* __restrict__ part_mean,
                                const float* __restrict__ part_m2,
                                const int* __restrict__ part_count,
                                const float* __restrict__ weight, double momentum, double eps,
                                float* __restrict__ save_mean, float* __restrict__ save_invstd,
                                float* running_mean, float* running_var,
                                float* __restrict__ scale) {
  const int warps = int(blockDim.x) / 32;
  const int c = int(blockIdx.x) * warps + int(threadIdx.x) / 32;
  if (c >= C) return;  // a whole warp leaves together: no shuffle misses a lane
  const int lane = int(threadIdx.x) & 31;
  BnStat st{0.f, 0.f, 0};
  for (int s = lane; s < S; s += 32) {
    const int64_t i = int64_t(c) * S + s;
    st = bn_merge(st, BnStat{part_mean[i], part_m2[i], part_count[i]});
  }
  st = bn_warp_merge(st);
  if (lane == 0) {
    float mean = 0.f;
    bn_finish_stats(c, st, weight, momentum, eps, save_mean, save_invstd, running_mean, running_var,
                    mean, scale[c]);
  }
}

// v3 step 3 (and v2 / v3 evaluation): grid (C, S), y = (x - mean) * scale +
// shift over block (c, s)'s range.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_normalize(int N, int C, int hw, int chunk, bool quads, const float* __restrict__ x,
                 const float* __restrict__ mean, const float* __restrict__ scale,
                 const float* __restrict__ shift, float* __restrict__ y) {
  const int c = int(blockIdx.x), s = int(blockIdx.y);
  const int m = N * hw;
  const int begin = s * chunk;
  const int end = m - begin < chunk ? m : begin + chunk;
  bn_normalize_slice<kBlock>(x, C, c, hw, begin, end, quads, mean[c], scale[c], shift[c], y);
}

// ---- v2 and v3 backward -----------------------------------------------------

// This thread's sums of dy and dy * (x - mu) over its slice, in float.
template <int kBlock>
__device__ __forceinline__ void bn_thread_sums(const float* __restrict__ x,
                                               const float* __restrict__ dy, int C, int c, int hw,
                                               int begin, int end, bool quads, float mu, float& sdy,
                                               float& sdyx) {
  sdy = 0.f;
  sdyx = 0.f;
  const auto add = [&](float g, float v) {
    sdy += g;
    sdyx = fmaf(g, v - mu, sdyx);
  };
  bn_for_slice<kBlock>(
      C, c, hw, begin, end, quads, [&](int64_t k) { add(dy[k], x[k]); },
      [&](int64_t k) {
        const float4 g = *reinterpret_cast<const float4*>(dy + k);
        const float4 v = *reinterpret_cast<const float4*>(x + k);
        add(g.x, v.x);
        add(g.y, v.y);
        add(g.z, v.z);
        add(g.w, v.w);
      });
}

// Two sums over the warp, the same tree as bn_warp_merge; result in lane 0.
__device__ __forceinline__ void bn_warp_sum2(float& a, float& b) {
  SIMT_UNROLL
  for (int off = 16; off > 0; off >>= 1) {
    a += __shfl_down_sync(0xffffffffu, a, off);
    b += __shfl_down_sync(0xffffffffu, b, off);
  }
}

// Two sums over the block, in thread 0; every thread must call it.
template <int kBlock>
__device__ __forceinline__ void bn_block_sum2(float& a, float& b) {
  constexpr int kWarps = kBlock / 32;
  SIMT_SHARED(float, w_a, [kWarps]);
  SIMT_SHARED(float, w_b, [kWarps]);
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  bn_warp_sum2(a, b);
  if (lane == 0) {
    w_a[warp] = a;
    w_b[warp] = b;
  }
  __syncthreads();  // the warps' sums, before warp 0 reads them
  if (warp == 0) {
    a = lane < kWarps ? w_a[lane] : 0.f;
    b = lane < kWarps ? w_b[lane] : 0.f;
    bn_warp_sum2(a, b);
  }
}

// The parameter gradients (+=) and dx's coefficients from a channel's sums, in
// double with the CPU twin's formulas: dx = a * dy - b * (x - mean) - d
// (batch statistics) or a * dy (b = d = 0, evaluation).
__device__ __forceinline__ void bn_backward_coefs(int c, int64_t count, bool batch_stats,
                                                  double sum_dy, double sum_dy_xc,
                                                  const float* __restrict__ invstd,
                                                  const float* __restrict__ weight, float* dweight,
                                                  float* dbias, float& a, float& b, float& d) {
  const double m = double(count);
  const double is = double(invstd[c]);
  dbias[c] += float(sum_dy);
  dweight[c] += float(sum_dy_xc * is);
  const double wk = double(weight[c]) * is;
  a = float(wk);
  b = batch_stats ? float(wk * is * is * sum_dy_xc / m) : 0.f;
  d = batch_stats ? float(wk * sum_dy / m) : 0.f;
}

template <int kBlock>
__device__ __forceinline__ void bn_dx_slice(const float* __restrict__ x,
                                            const float* __restrict__ dy, int C, int c, int hw,
                                            int begin, int end, bool quads, bool batch_stats,
                                            float mu, float a, float b, float d,
                                            float* __restrict__ dx) {
  const auto grad = [&](float g, float v) {
    return batch_stats ? __fmul_rn(a, g) - __fmul_rn(b, v - mu) - d : a * g;
  };
  bn_for_slice<kBlock>(
      C, c, hw, begin, end, quads, [&](int64_t k) { dx[k] = grad(dy[k], x[k]); },
      [&](int64_t k) {
        const float4 g = *reinterpret_cast<const float4*>(dy + k);
        const float4 v = *reinterpret_cast<const float4*>(x + k);
        *reinterpret_cast<float4*>(dx + k) =
            make_float4(grad(g.x, v.x), grad(g.y, v.y), grad(g.z, v.z), grad(g.w, v.w));
      });
}

// v2 backward: grid (C), one block per channel, sums and dx in one kernel.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_backward_v2(int N, int C, int hw, bool quads, bool batch_stats, const float* __restrict__ x,
                   const float* __restrict__ dy, const float* __restrict__ mean,
                   const float* __restrict__ invstd, const float* __restrict__ weight,
                   float* __restrict__ dx, float* dweight, float* dbias) {
  SIMT_SHARED(float, coef, [3]);  // a, b, d
  const int c = int(blockIdx.x);
  const int m = N * hw;
  const float mu = mean[c];
  float sdy = 0.f, sdyx = 0.f;
  bn_thread_sums<kBlock>(x, dy, C, c, hw, 0, m, quads, mu, sdy, sdyx);
  bn_block_sum2<kBlock>(sdy, sdyx);
  if (threadIdx.x == 0) {
    bn_backward_coefs(c, m, batch_stats, double(sdy), double(sdyx), invstd, weight, dweight, dbias,
                      coef[0], coef[1], coef[2]);
  }
  __syncthreads();  // coef, before every thread computes dx with it
  bn_dx_slice<kBlock>(x, dy, C, c, hw, 0, m, quads, batch_stats, mu, coef[0], coef[1], coef[2], dx);
}

// v3 backward step 1: grid (C, S), block (c, s)'s sums to part_*[c * S + s].
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_backward_partial(int N, int C, int hw, int chunk, bool quads, const float* __restrict__ x,
                        const float* __restrict__ dy, const float* __restrict__ mean,
                        float* __restrict__ part_dy, float* __restrict__ part_dyx) {
  const int c = int(blockIdx.x), s = int(blockIdx.y);
  const int m = N * hw;
  const int begin = s * chunk;
  const int end = m - begin < chunk ? m : begin + chunk;
  float sdy = 0.f, sdyx = 0.f;
  bn_thread_sums<kBlock>(x, dy, C, c, hw, begin, end, quads, mean[c], sdy, sdyx);
  bn_block_sum2<kBlock>(sdy, sdyx);
  if (threadIdx.x == 0) {
    const int64_t i = int64_t(c) * gridDim.y + s;
    part_dy[i] = sdy;
    part_dyx[i] = sdyx;
  }
}

// v3 backward step 2: one warp per channel sums its S partials (lane l the
// partials l, l + 32, ... in order, then the warp's tree), updates dweight and
// dbias and writes dx's coefficients to coef: [C, 3] workspace.
__global__ void bn_backward_finish(int C, int S, int64_t m, bool batch_stats,
                                   const float* __restrict__ part_dy,
                                   const float* __restrict__ part_dyx,
                                   const float* __restrict__ invstd,
                                   const float* __restrict__ weight, float* dweight, float* dbias,
                                   float* __restrict__ coef) {
  const int warps = int(blockDim.x) / 32;
  const int c = int(blockIdx.x) * warps + int(threadIdx.x) / 32;
  if (c >= C) return;  // a whole warp leaves together
  const int lane = int(threadIdx.x) & 31;
  float sdy = 0.f, sdyx = 0.f;
  for (int s = lane; s < S; s += 32) {
    sdy += part_dy[int64_t(c) * S + s];
    sdyx += part_dyx[int64_t(c) * S + s];
  }
  bn_warp_sum2(sdy, sdyx);
  if (lane == 0) {
    bn_backward_coefs(c, m, batch_stats, double(sdy), double(sdyx), invstd, weight, dweight, dbias,
                      coef[3 * c], coef[3 * c + 1], coef[3 * c + 2]);
  }
}

// v3 backward step 3: grid (C, S), dx over block (c, s)'s range.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    bn_backward_dx(int N, int C, int hw, int chunk, bool quads, bool batch_stats,
                   const float* __restrict__ x, const float* __restrict__ dy,
                   const float* __restrict__ mean, const float* __restrict__ coef,
                   float* __restrict__ dx) {
  const int c = int(blockIdx.x), s = int(blockIdx.y);
  const int m = N * hw;
  const int begin = s * chunk;
  const int end = m - begin < chunk ? m : begin + chunk;
  bn_dx_slice<kBlock>(x, dy, C, c, hw, begin, end, quads, batch_stats, mean[c], coef[3 * c],
                      coef[3 * c + 1], coef[3 * c + 2], dx);
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
