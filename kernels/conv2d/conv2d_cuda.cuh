// conv2d kernels: forward, backward-input and backward-weight side by side.
// Outputs: forward overwrites y, backward-input overwrites dx, backward-weight
// ACCUMULATES (+=) into dw and db.
//
// v1 is the convolution's own loop nest, one thread per output element.
// v2 and v3 see each pass as a GEMM over a matrix that is never built
// (implicit im2col); a tile of it is gathered straight into shared memory:
//
//   forward          y[m, n]   = sum_kd A[m, kd] B[kd, n]
//                    m = (img, oh, ow), n = k, kd = (c, r, s)
//                    A = x[img, c, oh*stride - pad + r, ow*stride - pad + s] (0 in the padding)
//                    B = w[n, kd]
//   backward-input   dx[m, n]  = sum_kd A[m, kd] B[kd, n]
//                    m = (img, ih, iw), n = c, kd = (k, r, s)
//                    A = dy[img, k, oh, ow] where oh*stride = ih + pad - r (and likewise
//                        ow), 0 where no output pixel has that tap
//                    B = w[k, n, r, s]
//   backward-weight  dw[m, n] += sum_kd A[m, kd] B[kd, n]
//                    m = k, n = (c, r, s), kd = (img, oh, ow)
//                    A = dy[img, m, oh, ow], B = x as in the forward pass
//
// A "problem" struct below describes one pass: its operands (a point per
// row precomputed once per thread, then one element per kd), where its
// output goes, and which way its operands are contiguous. The two GEMM
// kernels are written once for all three. Every output element is one
// thread's sum over kd in increasing order, so results are the same bits
// under any thread or block schedule; the weight gradient's slices
// (conv2d_cuda.h) are added in slice order by conv_weight_reduce.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// Shapes as the kernels see them. Every index is an int: the launcher
// refuses tensors of 2^31 elements or more.
struct ConvDims {
  int N, C, H, W;      // x: [N, C, H, W]
  int K, R, S;         // w: [K, C, R, S]
  int stride, pad;     // square stride and zero padding
  int OH, OW;          // y: [N, K, OH, OW]
  int HW, P, RS, CRS;  // H*W, OH*OW, R*S, C*R*S
};

// x[img, c, iy0 + r, ix0 + s] for crs = (c, r, s), 0 in the padding. `img`
// points at image img of x.
__device__ __forceinline__ float x_tap(const ConvDims& d, const float* img, int iy0, int ix0,
                                       int crs) {
  const int c = crs / d.RS, rs = crs - c * d.RS, r = rs / d.S, s = rs - r * d.S;
  const int iy = iy0 + r, ix = ix0 + s;
  return unsigned(iy) < unsigned(d.H) && unsigned(ix) < unsigned(d.W)
             ? img[(c * d.H + iy) * d.W + ix]
             : 0.f;
}

// ---- v1: one thread per output element ---------------------------------------

// x: [N, C, H, W], w: [K, C, R, S], b: [K] or nullptr -> y: [N, K, OH, OW]
__global__ void __launch_bounds__(256)
    conv_forward_v1(ConvDims d, const float* __restrict__ x, const float* __restrict__ w,
                    const float* __restrict__ b, float* __restrict__ y) {
  const int64_t total = int64_t(d.N) * d.K * d.P, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int ow = int(i % d.OW), oh = int(i / d.OW % d.OH), k = int(i / d.P % d.K);
    const int n = int(i / (int64_t(d.K) * d.P));
    float acc = 0.f;
    for (int c = 0; c < d.C; ++c) {
      for (int r = 0; r < d.R; ++r) {
        const int iy = oh * d.stride - d.pad + r;
        if (unsigned(iy) >= unsigned(d.H)) continue;
        for (int s = 0; s < d.S; ++s) {
          const int ix = ow * d.stride - d.pad + s;
          if (unsigned(ix) >= unsigned(d.W)) continue;
          acc += w[((k * d.C + c) * d.R + r) * d.S + s] * x[((n * d.C + c) * d.H + iy) * d.W + ix];
        }
      }
    }
    y[i] = b != nullptr ? acc + b[k] : acc;
  }
}

// dy: [N, K, OH, OW], w: [K, C, R, S] -> dx: [N, C, H, W]. Each dx element
// gathers the taps that read it: (k, r, s) with ih + pad - r = oh * stride.
__global__ void __launch_bounds__(256)
    conv_backward_input_v1(ConvDims d, const float* __restrict__ dy, const float* __restrict__ w,
                           float* __restrict__ dx) {
  const int64_t total = int64_t(d.N) * d.C * d.HW, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int iw = int(i % d.W), ih = int(i / d.W % d.H), c = int(i / d.HW % d.C);
    const int n = int(i / (int64_t(d.C) * d.HW));
    float acc = 0.f;
    for (int k = 0; k < d.K; ++k) {
      for (int r = 0; r < d.R; ++r) {
        const int th = ih + d.pad - r;
        if (th < 0 || th % d.stride != 0 || th / d.stride >= d.OH) continue;
        const int oh = th / d.stride;
        for (int s = 0; s < d.S; ++s) {
          const int tw = iw + d.pad - s;
          if (tw < 0 || tw % d.stride != 0 || tw / d.stride >= d.OW) continue;
          const int ow = tw / d.stride;
          acc +=
              w[((k * d.C + c) * d.R + r) * d.S + s] * dy[((n * d.K + k) * d.OH + oh) * d.OW + ow];
        }
      }
    }
    dx[i] = acc;
  }
}

// x: [N, C, H, W], dy: [N, K, OH, OW] -> dw: [K, C, R, S] +=. Each thread
// walks the whole batch for its weight.
__global__ void __launch_bounds__(256)
    conv_backward_weight_v1(ConvDims d, const float* __restrict__ x, const float* __restrict__ dy,
                            float* __restrict__ dw) {
  const int64_t total = int64_t(d.K) * d.CRS, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int s = int(i % d.S), r = int(i / d.S % d.R), c = int(i / d.RS % d.C);
    const int k = int(i / d.CRS);
    float acc = 0.f;
    for (int n = 0; n < d.N; ++n) {
      for (int oh = 0; oh < d.OH; ++oh) {
        const int iy = oh * d.stride - d.pad + r;
        if (unsigned(iy) >= unsigned(d.H)) continue;
        for (int ow = 0; ow < d.OW; ++ow) {
          const int ix = ow * d.stride - d.pad + s;
          if (unsigned(ix) >= unsigned(d.W)) continue;
          acc += dy[((n * d.K + k) * d.OH + oh) * d.OW + ow] *
                 x[((n * d.C + c) * d.H + iy) * d.W + ix];
        }
      }
    }
    dw[i] += acc;
  }
}

// dy: [N, K, OH, OW] -> db: [K] +=, one thread per channel.
__global__ void __launch_bounds__(256)
    conv_bias_grad_v1(ConvDims d, const float* __restrict__ dy, float* __restrict__ db) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < d.K; k += step) {
    float acc = 0.f;
    for (int n = 0; n < d.N; ++n) {
      const float* row = dy + (int64_t(n) * d.K + k) * d.P;
      for (int p = 0; p < d.P; ++p) acc += row[p];
    }
    db[k] += acc;
  }
}

// ---- the three passes as implicit GEMMs (v2, v3) ---------------------------------
//
// Each problem gives:
//   rows M, columns N, depth KD (host side, in the launcher);
//   a_point(m): what A[m, kd] needs that does not depend on kd, computed once
//     per thread; a_at(pt, kd) one element (v2), a_at4(pt, kd, n) the 4
//     elements kd..kd+3, those from n on as 0 (v3: one index decode, then
//     carries); likewise b_point(n), b_at, b_at4 for B[kd, n];
//   kAAlongKd: A is contiguous along kd (load it that way) rather than m;
//     B is contiguous along kd in all three passes;
//   kVec4: b_at4 / a_at4 read one aligned float4 (the launcher checked that
//     rows start 16-byte aligned and have a multiple of 4 elements; v3 only);
//   out_point(m) / store(pt, n, v, slice): where C[m, n] goes;
//   kOutAlongN: consecutive output columns are contiguous in memory.

// Steps (outer, r, s) to the next tap of a row-major [outer][R][S] index.
__device__ __forceinline__ void next_tap(int& outer, int& r, int& s, int R, int S) {
  if (++s == S) {
    s = 0;
    if (++r == R) {
      r = 0;
      ++outer;
    }
  }
}

// forward: M = N*OH*OW, N = K, KD = C*R*S.
template <bool kVecW>
struct ConvForward {
  ConvDims d;
  const float* x;
  const float* w;
  const float* b;  // or nullptr
  float* y;

  static constexpr bool kAAlongKd = false, kVec4 = kVecW, kOutAlongN = false;

  struct APoint {
    const float* img;
    int iy0, ix0;  // oh * stride - pad, ow * stride - pad
  };
  __device__ APoint a_point(int m) const {
    const int n = m / d.P, p = m - n * d.P, oh = p / d.OW, ow = p - oh * d.OW;
    return {x + int64_t(n) * d.C * d.HW, oh * d.stride - d.pad, ow * d.stride - d.pad};
  }
  __device__ float a_at(const APoint& a, int kd) const { return x_tap(d, a.img, a.iy0, a.ix0, kd); }
  __device__ float4 a_at4(const APoint& a, int kd, int n) const {
    int c = kd / d.RS, r = (kd - c * d.RS) / d.S, s = kd - c * d.RS - r * d.S;
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) {
      const int iy = a.iy0 + r, ix = a.ix0 + s;
      v[j] = j < n && unsigned(iy) < unsigned(d.H) && unsigned(ix) < unsigned(d.W)
                 ? a.img[(c * d.H + iy) * d.W + ix]
                 : 0.f;
      next_tap(c, r, s, d.R, d.S);
    }
    return make_float4(v[0], v[1], v[2], v[3]);
  }

  __device__ const float* b_point(int n) const { return w + int64_t(n) * d.CRS; }
  __device__ float b_at(const float* row, int kd) const { return row[kd]; }
  __device__ float4 b_at4(const float* row, int kd, int n) const {
    if constexpr (kVecW) {
      return *reinterpret_cast<const float4*>(row + kd);
    } else {
      return make_float4(row[kd], n > 1 ? row[kd + 1] : 0.f, n > 2 ? row[kd + 2] : 0.f,
                         n > 3 ? row[kd + 3] : 0.f);
    }
  }

  __device__ float* out_point(int m) const {
    const int n = m / d.P, p = m - n * d.P;
    return y + int64_t(n) * d.K * d.P + p;
  }
  __device__ void store(float* out, int k, float v, int /*slice*/) const {
    out[k * d.P] = b != nullptr ? v + b[k] : v;
  }
};

// backward-input: M = N*H*W, N = C, KD = K*R*S.
struct ConvBackwardInput {
  ConvDims d;
  const float* dy;
  const float* w;
  float* dx;

  static constexpr bool kAAlongKd = false, kVec4 = false, kOutAlongN = false;

  struct APoint {
    const float* img;  // dy of this image
    int ihp, iwp;      // ih + pad, iw + pad
  };
  __device__ APoint a_point(int m) const {
    const int n = m / d.HW, q = m - n * d.HW, ih = q / d.W, iw = q - ih * d.W;
    return {dy + int64_t(n) * d.K * d.P, ih + d.pad, iw + d.pad};
  }
  // dy[img, k, oh, ow] when (ih + pad - r, iw + pad - s) = (oh, ow) * stride.
  __device__ float tap(const APoint& a, int k, int r, int s) const {
    const int th = a.ihp - r, tw = a.iwp - s;
    if (th < 0 || tw < 0) return 0.f;
    const int oh = th / d.stride, ow = tw / d.stride;
    if (oh * d.stride != th || ow * d.stride != tw || oh >= d.OH || ow >= d.OW) return 0.f;
    return a.img[(k * d.OH + oh) * d.OW + ow];
  }
  __device__ float a_at(const APoint& a, int kd) const {
    const int k = kd / d.RS, rs = kd - k * d.RS, r = rs / d.S;
    return tap(a, k, r, rs - r * d.S);
  }
  __device__ float4 a_at4(const APoint& a, int kd, int n) const {
    int k = kd / d.RS, r = (kd - k * d.RS) / d.S, s = kd - k * d.RS - r * d.S;
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) {
      v[j] = j < n ? tap(a, k, r, s) : 0.f;
      next_tap(k, r, s, d.R, d.S);
    }
    return make_float4(v[0], v[1], v[2], v[3]);
  }

  // w[k, c, r, s] for kd = (k, r, s): column c of B starts at w[0, c].
  __device__ const float* b_point(int c) const { return w + c * d.RS; }
  __device__ float b_at(const float* col, int kd) const {
    const int k = kd / d.RS;
    return col[k * d.CRS + (kd - k * d.RS)];
  }
  __device__ float4 b_at4(const float* col, int kd, int n) const {
    int k = kd / d.RS, rs = kd - k * d.RS;
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) {
      v[j] = j < n ? col[k * d.CRS + rs] : 0.f;
      if (++rs == d.RS) {
        rs = 0;
        ++k;
      }
    }
    return make_float4(v[0], v[1], v[2], v[3]);
  }

  __device__ float* out_point(int m) const {
    const int n = m / d.HW, q = m - n * d.HW;
    return dx + int64_t(n) * d.C * d.HW + q;
  }
  __device__ void store(float* out, int c, float v, int /*slice*/) const { out[c * d.HW] = v; }
};

// backward-weight: M = K, N = C*R*S, KD = N*OH*OW (or one slice of it).
// partial == nullptr: dw += the sum; else slice s writes partial[s][K][CRS].
template <bool kVecDy>
struct ConvBackwardWeight {
  ConvDims d;
  const float* x;
  const float* dy;
  float* dw;
  float* partial;

  static constexpr bool kAAlongKd = true, kVec4 = kVecDy, kOutAlongN = true;

  // dy[img, k, p] for kd = (img, p): row k of A starts at dy[0, k].
  __device__ const float* a_point(int k) const { return dy + int64_t(k) * d.P; }
  __device__ float a_at(const float* chan, int kd) const {
    const int n = kd / d.P;
    return chan[int64_t(n) * d.K * d.P + (kd - n * d.P)];
  }
  __device__ float4 a_at4(const float* chan, int kd, int cnt) const {
    int n = kd / d.P, p = kd - n * d.P;
    if constexpr (kVecDy) {
      return *reinterpret_cast<const float4*>(chan + int64_t(n) * d.K * d.P + p);
    } else {
      float v[4];
      SIMT_UNROLL
      for (int j = 0; j < 4; ++j) {
        v[j] = j < cnt ? chan[int64_t(n) * d.K * d.P + p] : 0.f;
        if (++p == d.P) {
          p = 0;
          ++n;
        }
      }
      return make_float4(v[0], v[1], v[2], v[3]);
    }
  }

  struct BPoint {
    const float* chan;  // x[0, c]
    int r0, s0;         // r - pad, s - pad
  };
  __device__ BPoint b_point(int crs) const {
    const int c = crs / d.RS, rs = crs - c * d.RS, r = rs / d.S, s = rs - r * d.S;
    return {x + c * d.HW, r - d.pad, s - d.pad};
  }
  __device__ float tap(const BPoint& b, int n, int oh, int ow) const {
    const int iy = oh * d.stride + b.r0, ix = ow * d.stride + b.s0;
    return unsigned(iy) < unsigned(d.H) && unsigned(ix) < unsigned(d.W)
               ? b.chan[int64_t(n) * d.C * d.HW + iy * d.W + ix]
               : 0.f;
  }
  __device__ float b_at(const BPoint& b, int kd) const {
    const int n = kd / d.P, p = kd - n * d.P, oh = p / d.OW;
    return tap(b, n, oh, p - oh * d.OW);
  }
  __device__ float4 b_at4(const BPoint& b, int kd, int cnt) const {
    int n = kd / d.P, oh = (kd - n * d.P) / d.OW, ow = kd - n * d.P - oh * d.OW;
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) {
      v[j] = j < cnt ? tap(b, n, oh, ow) : 0.f;
      next_tap(n, oh, ow, d.OH, d.OW);
    }
    return make_float4(v[0], v[1], v[2], v[3]);
  }

  __device__ int out_point(int k) const { return k * d.CRS; }
  __device__ void store(int row, int crs, float v, int slice) const {
    if (partial == nullptr) {
      dw[row + crs] += v;
    } else {
      partial[int64_t(slice) * d.K * d.CRS + row + crs] = v;
    }
  }
};

// v2: a kT x kT output tile per block of kT*kT threads, one output per
// thread. Each step stages a kT-deep slice of A and B in shared memory, every
// thread fetching one element of each (consecutive threads walk the
// operand's contiguous direction, so global loads coalesce), then every
// thread reads kT pairs from shared memory: each global element is read once
// per tile instead of once per output. The +1 column keeps the transposed
// stores (A, B along kd) free of bank conflicts.
// grid: (tiles of M x tiles of N, slices); slice s covers kd in [s, s+1) * slice_depth.
template <class Prob, int kT>
__global__ void __launch_bounds__(kT * kT)
    conv_igemm_v2(Prob prob, int rows, int cols, int depth, int tiles_m, int slice_depth) {
  SIMT_SHARED(float, as, [kT][kT + 1]);  // [kd][m]
  SIMT_SHARED(float, bs, [kT][kT + 1]);  // [kd][n]
  const int t = int(threadIdx.x), lo = t % kT, hi = t / kT;
  const int m0 = int(blockIdx.x) % tiles_m * kT, n0 = int(blockIdx.x) / tiles_m * kT;
  const int kd_begin = int(blockIdx.y) * slice_depth;
  const int kd_end = min(depth, kd_begin + slice_depth);

  const int a_row = Prob::kAAlongKd ? hi : lo, a_kk = Prob::kAAlongKd ? lo : hi;
  const int b_col = hi, b_kk = lo;
  const bool a_ok = m0 + a_row < rows, b_ok = n0 + b_col < cols;
  const auto a_pt = prob.a_point(min(m0 + a_row, rows - 1));
  const auto b_pt = prob.b_point(min(n0 + b_col, cols - 1));
  const int tm = Prob::kOutAlongN ? hi : lo, tn = Prob::kOutAlongN ? lo : hi;

  float acc = 0.f;
  for (int k0 = kd_begin; k0 < kd_end; k0 += kT) {
    as[a_kk][a_row] = a_ok && k0 + a_kk < kd_end ? prob.a_at(a_pt, k0 + a_kk) : 0.f;
    bs[b_kk][b_col] = b_ok && k0 + b_kk < kd_end ? prob.b_at(b_pt, k0 + b_kk) : 0.f;
    __syncthreads();  // the tiles are complete
    SIMT_UNROLL
    for (int kk = 0; kk < kT; ++kk) acc += as[kk][tm] * bs[kk][tn];
    __syncthreads();  // everyone is done reading before the next step overwrites them
  }
  if (m0 + tm < rows && n0 + tn < cols)
    prob.store(prob.out_point(m0 + tm), n0 + tn, acc, int(blockIdx.y));
}

// v3: a 64x64 output tile per 256-thread block; each thread owns a 4x4
// micro-tile (rows 4*tm.., columns 4*tn..) in registers, so each step of the
// inner loop is 2 float4 shared reads for 16 multiply-adds instead of 2
// scalar reads for 1 (v2). Each thread fetches 4 consecutive kd of one row of
// A and one column of B per step: one index decode for the four (then
// carries), or one float4 where the rows are aligned (kVec4). Operands
// contiguous along kd give the four to one thread and spread the rows over
// the threads (row t / 4); A contiguous along m spreads m over the threads
// instead (row t % 64), so a warp reads 32 neighbouring pixels. The tiles
// keep a 4-float pad: float4 reads stay aligned, transposed stores spread
// over more banks.
template <class Prob, int kBM, int kBN, int kBK>
__global__ void __launch_bounds__(256)
    conv_igemm_v3(Prob prob, int rows, int cols, int depth, int tiles_m, int slice_depth) {
  static_assert(kBM == 64 && kBN == 64 && kBK == 16, "the thread layout below assumes 64x64x16");
  SIMT_SHARED(float, as, [kBK][kBM + 4]);  // [kd][m]
  SIMT_SHARED(float, bs, [kBK][kBN + 4]);  // [kd][n]
  const int t = int(threadIdx.x);
  const int m0 = int(blockIdx.x) % tiles_m * kBM, n0 = int(blockIdx.x) / tiles_m * kBN;
  const int kd_begin = int(blockIdx.y) * slice_depth;
  const int kd_end = min(depth, kd_begin + slice_depth);

  const int a_row = Prob::kAAlongKd ? t / 4 : t % kBM;
  const int a_kk = Prob::kAAlongKd ? 4 * (t % 4) : 4 * (t / kBM);
  const int b_col = t / 4, b_kk = 4 * (t % 4);
  const bool a_ok = m0 + a_row < rows, b_ok = n0 + b_col < cols;
  const auto a_pt = prob.a_point(min(m0 + a_row, rows - 1));
  const auto b_pt = prob.b_point(min(n0 + b_col, cols - 1));
  const int tm = Prob::kOutAlongN ? t / 16 : t % 16, tn = Prob::kOutAlongN ? t % 16 : t / 16;

  float acc[4][4];
  SIMT_UNROLL
  for (int i = 0; i < 4; ++i) {
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;
  }

  for (int k0 = kd_begin; k0 < kd_end; k0 += kBK) {
    const float4 zero = make_float4(0.f, 0.f, 0.f, 0.f);
    const int a_kd = k0 + a_kk, b_kd = k0 + b_kk;
    const float4 av = a_ok && a_kd < kd_end ? prob.a_at4(a_pt, a_kd, kd_end - a_kd) : zero;
    const float4 bv = b_ok && b_kd < kd_end ? prob.b_at4(b_pt, b_kd, kd_end - b_kd) : zero;
    as[a_kk][a_row] = av.x;
    as[a_kk + 1][a_row] = av.y;
    as[a_kk + 2][a_row] = av.z;
    as[a_kk + 3][a_row] = av.w;
    bs[b_kk][b_col] = bv.x;
    bs[b_kk + 1][b_col] = bv.y;
    bs[b_kk + 2][b_col] = bv.z;
    bs[b_kk + 3][b_col] = bv.w;
    __syncthreads();  // the tiles are complete
    SIMT_UNROLL
    for (int kk = 0; kk < kBK; ++kk) {
      const float4 a = *reinterpret_cast<const float4*>(&as[kk][4 * tm]);
      const float4 b = *reinterpret_cast<const float4*>(&bs[kk][4 * tn]);
      const float ar[4] = {a.x, a.y, a.z, a.w}, br[4] = {b.x, b.y, b.z, b.w};
      SIMT_UNROLL
      for (int i = 0; i < 4; ++i) {
        SIMT_UNROLL
        for (int j = 0; j < 4; ++j) acc[i][j] += ar[i] * br[j];
      }
    }
    __syncthreads();  // everyone is done reading before the next step overwrites them
  }

  SIMT_UNROLL
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + 4 * tm + i;
    if (m >= rows) break;
    const auto out = prob.out_point(m);
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + 4 * tn + j;
      if (n < cols) prob.store(out, n, acc[i][j], int(blockIdx.y));
    }
  }
}

// dw[i] += sum over slices s, in order, of partial[s][i].
__global__ void __launch_bounds__(256)
    conv_weight_reduce(int n, int slices, const float* __restrict__ partial,
                       float* __restrict__ dw) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    float s = 0.f;
    for (int sl = 0; sl < slices; ++sl) s += partial[int64_t(sl) * n + i];
    dw[i] += s;
  }
}

// db[k] += sum over (img, p) of dy[img, k, p]: one block per channel, each
// thread a strided partial sum, then the warps' shuffle trees and the warp
// sums in warp order. (v2 and v3: bias grads are memory-bound, no tiles.)
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    conv_bias_grad_block(ConvDims d, const float* __restrict__ dy, float* __restrict__ db) {
  SIMT_SHARED(float, warp_sums, [kBlock / 32]);
  const int k = int(blockIdx.x), total = d.N * d.P;
  float acc = 0.f;
  for (int i = int(threadIdx.x); i < total; i += kBlock) {
    const int n = i / d.P;
    acc += dy[(int64_t(n) * d.K + k) * d.P + (i - n * d.P)];
  }
  SIMT_UNROLL
  for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = acc;
  __syncthreads();  // every warp's sum is in shared memory
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int w = 0; w < kBlock / 32; ++w) s += warp_sums[w];
    db[k] += s;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
