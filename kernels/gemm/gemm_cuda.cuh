// GEMM kernels (gemm_cuda.h has the contract and the version list).
//
//   C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C,  row-major.
//
// Every version keeps the CPU twin's per-element order: start from
// gemm_start(beta, c_old), then add (alpha * a_ik) * b_kj for k = 0 .. K-1.
// Tiles past K are never summed (the last K step runs a shorter loop instead
// of adding padded zeros, which could turn a -0 start into +0), so the
// emulated build matches the CPU bit for bit.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// The start of every element's sum: beta * c_old, where beta == 0 never reads
// c_old (it may be NaN) and beta == 1 takes it as it is, as the CPU does.
__device__ __forceinline__ float gemm_start(float beta, float c_old) {
  return beta == 0.f ? 0.f : (beta == 1.f ? c_old : beta * c_old);
}

// C = beta * C (zeros for beta == 0): the whole GEMM when K == 0 or alpha == 0.
// C: [M, N] with row stride ldc; grid-stride over M*N.
__global__ void __launch_bounds__(256)
    gemm_scale(int M, int N, float beta, float* __restrict__ C, int64_t ldc) {
  const int64_t total = int64_t(M) * N;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    float* c = C + (idx / N) * ldc + idx % N;
    *c = beta == 0.f ? 0.f : beta * *c;
  }
}

// ---- v1: the CPU loop ----------------------------------------------------------
// One thread per element (i, j) of C, grid-stride over M*N (consecutive
// threads take consecutive j: coalesced in C and in an untransposed B). The
// transposes are strides: op(A)[i][k] = A[i * a_i + k * a_k], op(B)[k][j] =
// B[k * b_k + j * b_j].
__global__ void __launch_bounds__(256)
    gemm_v1(int M, int N, int K, float alpha, const float* __restrict__ A, int64_t a_i, int64_t a_k,
            const float* __restrict__ B, int64_t b_k, int64_t b_j, float beta,
            float* __restrict__ C, int64_t ldc) {
  const int64_t total = int64_t(M) * N;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t i = idx / N, j = idx % N;
    const float* a = A + i * a_i;
    const float* b = B + j * b_j;
    float* c = C + i * ldc + j;
    float acc = gemm_start(beta, beta == 0.f ? 0.f : *c);
    for (int k = 0; k < K; ++k) acc += (alpha * a[k * a_k]) * b[k * b_k];
    *c = acc;
  }
}

// ---- v2: shared-memory tiles -----------------------------------------------------
// Block (32, 32), one output per thread; the grid is the tiles of C in a row
// (blockIdx.x = tile_row * tiles_n + tile_col, no 65535 limit on either side).
// Each K step stages alpha * op(A)[m0.., k0..] and op(B)[k0.., n0..] as 32x32
// tiles: every thread loads one element of each, walking the matrix's
// contiguous dimension with threadIdx.x (coalesced), and stores it transposed
// where the matrix is; the +1 column keeps those column stores free of bank
// conflicts. Each element of A and B is then read from global memory
// ceil(N / 32) resp. ceil(M / 32) times instead of N resp. M.
inline constexpr int kGemmV2Tile = 32;

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kGemmV2Tile* kGemmV2Tile)
    gemm_v2(int M, int N, int K, float alpha, const float* __restrict__ A, int64_t lda,
            const float* __restrict__ B, int64_t ldb, float beta, float* __restrict__ C,
            int64_t ldc, int tiles_n) {
  constexpr int T = kGemmV2Tile;
  SIMT_SHARED(float, a_tile, [T][T + 1]);  // a_tile[i][k] = alpha * op(A)[m0 + i][k0 + k]
  SIMT_SHARED(float, b_tile, [T][T + 1]);  // b_tile[k][j] = op(B)[k0 + k][n0 + j]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m0 = int(blockIdx.x / unsigned(tiles_n)) * T;
  const int n0 = int(blockIdx.x % unsigned(tiles_n)) * T;
  const int row = m0 + ty, col = n0 + tx;
  const bool inside = row < M && col < N;
  float acc = inside && beta != 0.f ? gemm_start(beta, C[int64_t(row) * ldc + col]) : 0.f;

  for (int k0 = 0; k0 < K; k0 += T) {
    if constexpr (!kTransA) {  // A: [M, K], rows along k
      const int r = m0 + ty, k = k0 + tx;
      a_tile[ty][tx] = r < M && k < K ? alpha * A[int64_t(r) * lda + k] : 0.f;
    } else {  // A: [K, M], rows along m
      const int k = k0 + ty, r = m0 + tx;
      a_tile[tx][ty] = r < M && k < K ? alpha * A[int64_t(k) * lda + r] : 0.f;
    }
    if constexpr (!kTransB) {  // B: [K, N], rows along n
      const int k = k0 + ty, c = n0 + tx;
      b_tile[ty][tx] = k < K && c < N ? B[int64_t(k) * ldb + c] : 0.f;
    } else {  // B: [N, K], rows along k
      const int c = n0 + ty, k = k0 + tx;
      b_tile[tx][ty] = k < K && c < N ? B[int64_t(c) * ldb + k] : 0.f;
    }
    __syncthreads();  // both tiles complete before anyone reads them
    if (K - k0 >= T) {
      SIMT_UNROLL
      for (int kk = 0; kk < T; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    } else {  // the last, partial K step: only the real k
      for (int kk = 0; kk < K - k0; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    }
    __syncthreads();  // everyone is done reading before the next step overwrites them
  }
  if (inside) C[int64_t(row) * ldc + col] = acc;
}

// ---- v3: register micro-tiles ------------------------------------------------------
// A block of 256 threads (16 x 16) computes a (64 kRM) x (64 kRN) tile of C in
// K steps of kBK. Thread (tx, ty) holds kRM x kRN groups of 4x4 outputs: group
// (p, q) covers rows p * 64 + ty * 4 + 0..3 and columns q * 64 + tx * 4 + 0..3
// of the tile, so a warp's float4 reads of a shared tile row cover 256
// contiguous bytes, and so do its stores of a row of C. Per k a thread reads
// kRM + kRN float4s from shared memory and does 16 kRM kRN FMAs: 4x4 does 2
// FMAs per shared float read, 8x8 (kRM = kRN = 2) does 4.
//
// The shared tiles are k-major (tile[k][row]), so a thread's 4 rows for one k
// are one float4. Their rows are padded by 4 floats, which keeps float4
// alignment and halves the bank conflicts of the transposed stores.
inline constexpr int kGemmV3Threads = 256;

// Reads up to four consecutive floats of a matrix row into v, zeros where the
// row is outside the matrix (ok == false) or past its end (avail < 4). With
// kVec the four are one 16-byte load (the caller guarantees the alignment).
template <bool kVec>
__device__ __forceinline__ void gemm_load4(const float* __restrict__ p, bool ok, int avail,
                                           float (&v)[4]) {
  if (kVec && ok && avail >= 4) {
    const float4 f = *reinterpret_cast<const float4*>(p);
    v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
    return;
  }
  SIMT_UNROLL
  for (int q = 0; q < 4; ++q) v[q] = ok && q < avail ? p[q] : 0.f;
}

// Stages slices op(X)[w0 .. w0+kW, k0 .. k0+kBK) as s[k * kLd + w], times
// `scale` when kScale (alpha for A), one K step after another. kAlongK: X's
// memory rows run along k, X[w * ld + k] (A untransposed, B transposed);
// otherwise along w, X[k * ld + w]. What lies outside [W, K] is stored as 0.
// Both tile shapes give every thread exactly one float4 per slice, the warp's
// along the memory rows; its place is fixed, so the source pointer is worked
// out once and moved by a constant per K step. (Recomputing it from k0 every
// step made the 8x8 kernel spill 32-56 bytes under its 128-register bound.)
template <int kW, int kBK, int kLd, bool kAlongK, bool kVec, bool kScale>
struct GemmStage {
  static_assert(kW * kBK / 4 == kGemmV3Threads, "one float4 per thread and slice");
  const float* src;  // the thread's 4 floats at k0 = 0 (X itself when its row is outside)
  int64_t step;      // src's move per K step
  int w, k;          // where they go in the slice (the first of the 4)
  int room;          // along K: K - k; along W: W - (w0 + w)
  bool row_ok;       // along K: the row w0 + w exists

  __device__ __forceinline__ GemmStage(const float* X, int64_t ld, int W, int K, int w0, int t) {
    if constexpr (kAlongK) {
      w = t / (kBK / 4), k = (t % (kBK / 4)) * 4;
      row_ok = w0 + w < W;
      room = K - k;
      src = row_ok ? X + int64_t(w0 + w) * ld + k : X;
      step = kBK;
    } else {
      k = t / (kW / 4), w = (t % (kW / 4)) * 4;
      row_ok = true;
      room = W - (w0 + w);
      src = X + int64_t(k) * ld + w0 + w;
      step = int64_t(kBK) * ld;
    }
  }

  // Stages the slice at k0, then moves src on to the next K step.
  __device__ __forceinline__ void load(int k0, int K, float scale, float* s) {
    float v[4];
    if constexpr (kAlongK) {
      gemm_load4<kVec>(src, row_ok, room - k0, v);
      SIMT_UNROLL
      for (int q = 0; q < 4; ++q) s[(k + q) * kLd + w] = kScale ? scale * v[q] : v[q];
    } else {
      gemm_load4<kVec>(src, k0 + k < K, room, v);
      if constexpr (kScale) {
        SIMT_UNROLL
        for (int q = 0; q < 4; ++q) v[q] *= scale;
      }
      *reinterpret_cast<float4*>(s + k * kLd + w) = make_float4(v[0], v[1], v[2], v[3]);
    }
    if (row_ok) src += step;
  }
};

// One k of the micro-tile: acc[i][j] += a[i] * b[j].
template <int kRM, int kRN, int kLdA, int kLdB>
__device__ __forceinline__ void gemm_v3_step(const float* a_tile, const float* b_tile, int kk,
                                             int tx, int ty, float (&acc)[4 * kRM][4 * kRN]) {
  float a[4 * kRM], b[4 * kRN];
  SIMT_UNROLL
  for (int p = 0; p < kRM; ++p) {
    const float4 f = *reinterpret_cast<const float4*>(a_tile + kk * kLdA + p * 64 + ty * 4);
    a[4 * p] = f.x, a[4 * p + 1] = f.y, a[4 * p + 2] = f.z, a[4 * p + 3] = f.w;
  }
  SIMT_UNROLL
  for (int q = 0; q < kRN; ++q) {
    const float4 f = *reinterpret_cast<const float4*>(b_tile + kk * kLdB + q * 64 + tx * 4);
    b[4 * q] = f.x, b[4 * q + 1] = f.y, b[4 * q + 2] = f.z, b[4 * q + 3] = f.w;
  }
  SIMT_UNROLL
  for (int i = 0; i < 4 * kRM; ++i) {
    SIMT_UNROLL
    for (int j = 0; j < 4 * kRN; ++j) acc[i][j] += a[i] * b[j];
  }
}

// kVec: A and B are 16-byte aligned with lda, ldb multiples of 4 (float4
// global loads; else scalar). vec_c: the same for C and ldc (float4 C reads
// and writes). Grid: one block per tile of C, blockIdx.x = tile_row * tiles_n
// + tile_col.
//
// Occupancy: there is no double buffering, so another resident block has to
// hide each block's staging. The launch bounds ask for 3 blocks per SM of the
// 4x4 kernel (at most 85 registers; nvcc 13 uses 77-80) and 1 of the 8x8 one
// (149-167 registers by architecture). Bounded to 2 blocks (128 registers)
// the 8x8 kernel fitted on sm_90 but spilled 68 bytes on sm_80, 86 and 89,
// which tools/build refuses; one block of 8 warps per SM is what it gets.
template <int kRM, int kRN, int kBK, bool kTransA, bool kTransB, bool kVec>
__global__ void __launch_bounds__(kGemmV3Threads, kRM* kRN > 1 ? 1 : 3)
    gemm_v3(int M, int N, int K, float alpha, const float* __restrict__ A, int64_t lda,
            const float* __restrict__ B, int64_t ldb, float beta, float* __restrict__ C,
            int64_t ldc, int tiles_n, bool vec_c) {
  constexpr int BM = 64 * kRM, BN = 64 * kRN;
  constexpr int kLdA = BM + 4, kLdB = BN + 4;
  SIMT_SHARED(float, a_tile, [kBK][kLdA]);  // a_tile[k][i] = alpha * op(A)[m0 + i][k0 + k]
  SIMT_SHARED(float, b_tile, [kBK][kLdB]);  // b_tile[k][j] = op(B)[k0 + k][n0 + j]
  const int t = threadIdx.x;
  const int tx = t % 16, ty = t / 16;
  const int m0 = int(blockIdx.x / unsigned(tiles_n)) * BM;
  const int n0 = int(blockIdx.x % unsigned(tiles_n)) * BN;

  float acc[4 * kRM][4 * kRN];
  SIMT_UNROLL
  for (int i = 0; i < 4 * kRM; ++i) {
    const int row = m0 + (i / 4) * 64 + ty * 4 + i % 4;
    SIMT_UNROLL
    for (int q = 0; q < kRN; ++q) {
      const int col = n0 + q * 64 + tx * 4;
      float c[4] = {0.f, 0.f, 0.f, 0.f};
      if (beta != 0.f && row < M) {
        if (vec_c) {
          gemm_load4<true>(C + int64_t(row) * ldc + col, true, N - col, c);
        } else {
          gemm_load4<false>(C + int64_t(row) * ldc + col, true, N - col, c);
        }
      }
      SIMT_UNROLL
      for (int j = 0; j < 4; ++j) acc[i][4 * q + j] = gemm_start(beta, c[j]);
    }
  }

  GemmStage<BM, kBK, kLdA, !kTransA, kVec, true> stage_a(A, lda, M, K, m0, t);
  GemmStage<BN, kBK, kLdB, kTransB, kVec, false> stage_b(B, ldb, N, K, n0, t);
  for (int k0 = 0; k0 < K; k0 += kBK) {
    stage_a.load(k0, K, alpha, &a_tile[0][0]);
    stage_b.load(k0, K, 1.f, &b_tile[0][0]);
    __syncthreads();  // both tiles complete before anyone reads them
    if (K - k0 >= kBK) {
      SIMT_UNROLL
      for (int kk = 0; kk < kBK; ++kk)
        gemm_v3_step<kRM, kRN, kLdA, kLdB>(&a_tile[0][0], &b_tile[0][0], kk, tx, ty, acc);
    } else {  // the last, partial K step: only the real k
      for (int kk = 0; kk < K - k0; ++kk)
        gemm_v3_step<kRM, kRN, kLdA, kLdB>(&a_tile[0][0], &b_tile[0][0], kk, tx, ty, acc);
    }
    __syncthreads();  // everyone is done reading before the next step overwrites them
  }

  SIMT_UNROLL
  for (int i = 0; i < 4 * kRM; ++i) {
    const int row = m0 + (i / 4) * 64 + ty * 4 + i % 4;
    if (row >= M) continue;
    float* c_row = C + int64_t(row) * ldc;
    SIMT_UNROLL
    for (int q = 0; q < kRN; ++q) {
      const int col = n0 + q * 64 + tx * 4;
      if (vec_c && col + 4 <= N) {
        *reinterpret_cast<float4*>(c_row + col) =
            make_float4(acc[i][4 * q], acc[i][4 * q + 1], acc[i][4 * q + 2], acc[i][4 * q + 3]);
      } else {
        SIMT_UNROLL
        for (int j = 0; j < 4; ++j)
          if (col + j < N) c_row[col + j] = acc[i][4 * q + j];
      }
    }
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
