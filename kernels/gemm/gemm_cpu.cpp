// Blocked GEMM on the CPU, in the style of Goto and van de Geijn ("Anatomy of
// high-performance matrix multiplication", 2008):
//
//   for jc over N in NC columns          B panel  [KC, NC]  -> packed, stays in L3/L2
//     for pc over K in KC steps          (in increasing k: this is what keeps the
//                                         per-element order k = 0..K-1)
//       pack op(B)[pc.., jc..] into NR-wide slivers, op(A)[.., pc..] into MR-tall slivers
//       for each tile of C (MC-ish x NB-ish, one thread each):
//         for each NR sliver of B        [KC, NR] stays in L1 across the MR slivers
//           for each MR sliver of A      [KC, MR]
//             micro-kernel: an MR x NR block of C held in registers
//
// The baseline micro-kernel is plain C++ that g++ -O3 unrolls and vectorises
// with the SSE2 of x86-64 (4 floats or 2 doubles per register): the MR x NR
// accumulators are MR * NR / 4 registers, a B row is NR / 4 more and a
// broadcast A element one more, which must fit in the 16 xmm registers.
// For float there are two wider ones, compiled with GCC's target attribute
// and chosen at run time (kernels/common/cpu_isa.h): AVX2 (6 x 16 in 12 ymm
// registers) and AVX-512 (8 x 32 in 16 zmm registers). They use a separate
// multiply and add, never FMA, so their bits equal the baseline's.
//
// Determinism: the K loop is outermost of the per-element work and runs in
// increasing order; between K blocks the running sum of each C element is
// stored in C itself and reloaded, so c = beta c0 + a_0 b_0 + a_1 b_1 + ... is
// rounded in the same order whatever the blocking. Threads split only the
// tiles of C (independent outputs), so any thread count gives the same bits;
// the tile sizes may therefore depend on the thread count.
#include "kernels/gemm/gemm.h"

#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/common/cpu_isa.h"
#include "kernels/common/parallel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MEDTEX_GEMM_X86 1
#endif

namespace medtex::cpu {

namespace {

// Register and cache blocking per kernel. Measured on the dev machine (Xeon,
// 48 KiB L1d, 2 MiB L2 per core), see bench/kernels/bench_gemm.cpp. Each
// policy names its register tile MR x NR and a `full` micro-kernel for a
// whole tile; `Generic` is the portable one (any T, partial tiles included).
template <class T>
struct Generic;

template <>
struct Generic<float> {
  static constexpr int MR = 6;  // 6 x 8 floats = 12 xmm accumulators
  static constexpr int NR = 8;
  static constexpr int64_t KC = 256;   // a B sliver: 256 x 8 x 4 B = 8 KiB of L1
  static constexpr int64_t MC = 96;    // an A block: 96 x 256 x 4 B = 96 KiB of L2
  static constexpr int64_t NB = 256;   // columns of one tile
  static constexpr int64_t NC = 4096;  // a B panel: 4 MiB at most
};

template <>
struct Generic<double> {
  static constexpr int MR = 6;  // 6 x 4 doubles = 12 xmm accumulators
  static constexpr int NR = 4;
  static constexpr int64_t KC = 256;
  static constexpr int64_t MC = 48;
  static constexpr int64_t NB = 128;
  static constexpr int64_t NC = 2048;
};

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Packs op(A)[i0 .. i0+mr, k0 .. k0+kc] times alpha as [kc][MR], zero rows
// beyond mr, so the micro-kernel never branches on the edge.
template <class T, int MR>
void pack_a(bool trans, const T* A, int64_t lda, int64_t i0, int64_t mr, int64_t k0, int64_t kc,
            T alpha, T* out) {
  if (trans) {  // op(A)[i][k] = A[k][i]: rows of A are contiguous in i
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = A + (k0 + k) * lda + i0;
      T* dst = out + k * MR;
      for (int64_t i = 0; i < mr; ++i) dst[i] = src[i] * alpha;
      for (int64_t i = mr; i < MR; ++i) dst[i] = T(0);
    }
  } else {  // op(A)[i][k] = A[i][k]: walk each row contiguously
    for (int64_t i = 0; i < mr; ++i) {
      const T* src = A + (i0 + i) * lda + k0;
      for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = src[k] * alpha;
    }
    for (int64_t i = mr; i < MR; ++i) {
      for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = T(0);
    }
  }
}

// Packs op(B)[k0 .. k0+kc, j0 .. j0+nr] as [kc][NR], zero columns beyond nr.
template <class T, int NR>
void pack_b(bool trans, const T* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nr,
            T* out) {
  if (trans) {  // op(B)[k][j] = B[j][k]
    for (int64_t j = 0; j < nr; ++j) {
      const T* src = B + (j0 + j) * ldb + k0;
      for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = src[k];
    }
    for (int64_t j = nr; j < NR; ++j) {
      for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = T(0);
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = B + (k0 + k) * ldb + j0;
      T* dst = out + k * NR;
      for (int64_t j = 0; j < nr; ++j) dst[j] = src[j];
      for (int64_t j = nr; j < NR; ++j) dst[j] = T(0);
    }
  }
}

// C[0..mr, 0..nr] = start + sum_k a[k][i] * b[k][j], k in increasing order,
// where start is 0 (beta == 0), C (beta == 1) or beta * C.
template <class T, int MR, int NR>
void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  int64_t ldc, int64_t mr, int64_t nr, T beta) {
  T acc[MR][NR];
  const bool full = mr == MR && nr == NR;
  if (beta == T(0)) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = T(0);
  } else if (full) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = c[i * ldc + j];
  } else {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = i < mr && j < nr ? c[i * ldc + j] : T(0);
  }
  if (beta != T(0) && beta != T(1)) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] *= beta;
  }

  // The B row is copied to a local first: without it g++ 12 re-reads it per
  // row and spills accumulators (6x8 float: 5 GFLOP/s; with it: 25 GFLOP/s
  // in L1 on one core).
  for (int64_t k = 0; k < kc; ++k) {
    const T* ak = a + k * MR;
    T bk[NR];
    for (int j = 0; j < NR; ++j) bk[j] = b[k * NR + j];
    for (int i = 0; i < MR; ++i) {
      const T ai = ak[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * bk[j];
    }
  }

  if (full) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  } else {
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = acc[i][j];
  }
}

#ifdef MEDTEX_GEMM_X86
// The wide float kernels: whole MR x NR tiles only (run_tile below runs edge
// tiles through a padded copy). Per element: start, then acc = acc + a * b
// with the product rounded before the sum, k = 0 .. kc-1: the generic
// kernel's arithmetic, so the same bits. The two are the same loop in two
// intrinsic sets; one template over GCC vector types was tried and kept the
// bits but ran 7x slower (g++ 12 spilled the accumulators), so they stay
// written out.
struct Avx2 {
  static constexpr int MR = 6;  // 6 x 16 floats = 12 ymm accumulators
  static constexpr int NR = 16;
  static constexpr int64_t KC = 256;  // a B sliver: 16 KiB of L1
  static constexpr int64_t MC = 96;
  static constexpr int64_t NB = 256;
  static constexpr int64_t NC = 4096;

  __attribute__((target("avx2"))) static void full(int64_t kc, const float* __restrict a,
                                                   const float* __restrict b, float* __restrict c,
                                                   int64_t ldc, float beta) {
    __m256 acc[MR][2];
    for (int i = 0; i < MR; ++i) {
      for (int h = 0; h < 2; ++h) {
        acc[i][h] = beta == 0.0f ? _mm256_setzero_ps() : _mm256_loadu_ps(c + i * ldc + 8 * h);
        if (beta != 0.0f && beta != 1.0f) acc[i][h] = _mm256_mul_ps(acc[i][h], _mm256_set1_ps(beta));
      }
    }
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_loadu_ps(b + k * NR), b1 = _mm256_loadu_ps(b + k * NR + 8);
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + k * MR + i);
        acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_mul_ps(ai, b0));
        acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_mul_ps(ai, b1));
      }
    }
    for (int i = 0; i < MR; ++i) {
      _mm256_storeu_ps(c + i * ldc, acc[i][0]);
      _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
  }
};

struct Avx512 {
  static constexpr int MR = 8;  // 8 x 32 floats = 16 zmm accumulators
  static constexpr int NR = 32;
  static constexpr int64_t KC = 256;  // a B sliver: 32 KiB of L1
  static constexpr int64_t MC = 96;
  static constexpr int64_t NB = 256;
  static constexpr int64_t NC = 4096;

  __attribute__((target("avx512f"))) static void full(int64_t kc, const float* __restrict a,
                                                      const float* __restrict b,
                                                      float* __restrict c, int64_t ldc,
                                                      float beta) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; ++i) {
      for (int h = 0; h < 2; ++h) {
        acc[i][h] = beta == 0.0f ? _mm512_setzero_ps() : _mm512_loadu_ps(c + i * ldc + 16 * h);
        if (beta != 0.0f && beta != 1.0f) acc[i][h] = _mm512_mul_ps(acc[i][h], _mm512_set1_ps(beta));
      }
    }
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_loadu_ps(b + k * NR), b1 = _mm512_loadu_ps(b + k * NR + 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[k * MR + i]);
        acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_mul_ps(ai, b0));
        acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_mul_ps(ai, b1));
      }
    }
    for (int i = 0; i < MR; ++i) {
      _mm512_storeu_ps(c + i * ldc, acc[i][0]);
      _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
    }
  }
};
#endif  // MEDTEX_GEMM_X86

// The micro-kernel call of a policy: Generic's handles edges itself; a wide
// one runs an edge tile on a padded MR x NR copy of it (the padding rows and
// columns compute zeros that are never stored back).
template <class T, class P>
void run_tile(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t mr, int64_t nr,
              T beta) {
  if constexpr (std::is_same_v<P, Generic<T>>) {
    micro_kernel<T, P::MR, P::NR>(kc, a, b, c, ldc, mr, nr, beta);
  } else {
    if (mr == P::MR && nr == P::NR) {
      P::full(kc, a, b, c, ldc, beta);
      return;
    }
    T tile[P::MR * P::NR] = {};
    if (beta != T(0)) {
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) tile[i * P::NR + j] = c[i * ldc + j];
    }
    P::full(kc, a, b, tile, P::NR, beta);
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = tile[i * P::NR + j];
  }
}

// C = beta * C, with beta == 0 writing zeros (never reading C).
template <class T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  if (beta == T(1)) return;
#pragma omp parallel for schedule(static) if (M * N > kParallelGrain && !omp_in_parallel())
  for (int64_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) row[j] = T(0);
    } else {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

template <class T, class Bk>
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int MR = Bk::MR;
  constexpr int NR = Bk::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }

  const int64_t m_slivers = ceil_div(M, MR);
  const int64_t kc_max = std::min(K, Bk::KC);
  const int64_t nc_max = std::min(ceil_div(N, NR) * NR, Bk::NC);

  // Packing buffers, kept per calling thread: conv2d calls gemm once per image
  // chunk, and fresh multi-MiB allocations would cost a page fault per 4 KiB.
  thread_local std::vector<T> a_buf, b_buf;
  if (a_buf.size() < size_t(m_slivers * MR * kc_max)) a_buf.resize(size_t(m_slivers * MR * kc_max));
  if (b_buf.size() < size_t(nc_max * kc_max)) b_buf.resize(size_t(nc_max * kc_max));
  T* const ap = a_buf.data();
  T* const bp = b_buf.data();

  // Tiles of C: mt x nt slivers each. Shrink them until every thread has a few
  // tiles to take; this changes who computes an element, never how.
  const int threads = num_threads();
  // Inside a parallel region (conv2d running one image per thread, say) the
  // caller has already split the work: run on this thread alone.
  const bool parallel = M * N * K > kParallelGrain && threads > 1 && !omp_in_parallel();
  int64_t mt = Bk::MC / MR;
  int64_t nt = Bk::NB / NR;
  const int64_t n_slivers_max = ceil_div(nc_max, NR);
  if (parallel) {
    while (ceil_div(m_slivers, mt) * ceil_div(n_slivers_max, nt) < 4 * int64_t(threads) &&
           (mt > 1 || nt > 1)) {
      if (nt >= mt && nt > 1) {
        nt = (nt + 1) / 2;
      } else {
        mt = (mt + 1) / 2;
      }
    }
  }
  const int64_t m_tiles = ceil_div(m_slivers, mt);

  // One parallel region: every thread walks the jc / pc loops, the work
  // inside each step is shared with `omp for` (whose barriers order packing
  // before use, and use before the next packing overwrites the buffers).
#pragma omp parallel if (parallel)
  for (int64_t jc = 0; jc < N; jc += Bk::NC) {
    const int64_t nc = std::min(Bk::NC, N - jc);
    const int64_t n_slivers = ceil_div(nc, NR);
    const int64_t n_tiles = ceil_div(n_slivers, nt);
    for (int64_t pc = 0; pc < K; pc += Bk::KC) {
      const int64_t kc = std::min(Bk::KC, K - pc);
      const T start = pc == 0 ? beta : T(1);  // later K blocks continue the running sum

      // The two packings write disjoint buffers: only the second needs a barrier.
#pragma omp for schedule(static) nowait
      for (int64_t s = 0; s < n_slivers; ++s) {
        pack_b<T, NR>(trans_b, B, ldb, pc, kc, jc + s * NR, std::min<int64_t>(NR, nc - s * NR),
                      bp + s * NR * kc);
      }
#pragma omp for schedule(static)
      for (int64_t s = 0; s < m_slivers; ++s) {
        pack_a<T, MR>(trans_a, A, lda, s * MR, std::min<int64_t>(MR, M - s * MR), pc, kc, alpha,
                      ap + s * MR * kc);
      }
#pragma omp for schedule(static)
      for (int64_t t = 0; t < m_tiles * n_tiles; ++t) {
        const int64_t ms0 = (t % m_tiles) * mt, ms1 = std::min(ms0 + mt, m_slivers);
        const int64_t ns0 = (t / m_tiles) * nt, ns1 = std::min(ns0 + nt, n_slivers);
        for (int64_t ns = ns0; ns < ns1; ++ns) {
          const int64_t j = ns * NR;
          const int64_t nr = std::min<int64_t>(NR, nc - j);
          for (int64_t ms = ms0; ms < ms1; ++ms) {
            const int64_t i = ms * MR;
            run_tile<T, Bk>(kc, ap + ms * MR * kc, bp + ns * NR * kc, C + i * ldc + jc + j, ldc,
                            std::min<int64_t>(MR, M - i), nr, start);
          }
        }
      }
    }
  }
}

}  // namespace

template <class T>
void gemm_isa(Isa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
              const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
#ifdef MEDTEX_GEMM_X86
  if constexpr (std::is_same_v<T, float>) {
    isa = std::min(isa, supported_isa());
    if (isa == Isa::kAvx512) {
      gemm_blocked<float, Avx512>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    if (isa == Isa::kAvx2) {
      gemm_blocked<float, Avx2>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
  }
#endif
  (void)isa;
  gemm_blocked<T, Generic<T>>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  gemm_isa<T>(active_isa(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm_isa<float>(Isa, bool, bool, int64_t, int64_t, int64_t, float, const float*,
                              int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_isa<double>(Isa, bool, bool, int64_t, int64_t, int64_t, double, const double*,
                               int64_t, const double*, int64_t, double, double*, int64_t);
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

}  // namespace medtex::cpu
