// Launchers of gemm_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/gemm/gemm_cuda.h"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/common/error.h"
#include "kernels/gemm/gemm_cuda.cuh"
#include "kernels/runtime/gpu.h"
#include "kernels/vendor/vendor.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;  // v1 and the scale kernel

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

// Calls f(std::bool_constant<trans_a>, std::bool_constant<trans_b>): one
// kernel instantiation per transpose combination, no branch in the K loop.
template <class F>
void with_transposes(bool trans_a, bool trans_b, F&& f) {
  if (trans_a) {
    if (trans_b) {
      f(std::true_type{}, std::true_type{});
    } else {
      f(std::true_type{}, std::false_type{});
    }
  } else {
    if (trans_b) {
      f(std::false_type{}, std::true_type{});
    } else {
      f(std::false_type{}, std::false_type{});
    }
  }
}

// Blocks for a grid of tiles laid out in one dimension (x allows 2^31 - 1).
unsigned tile_blocks(int64_t tiles_m, int64_t tiles_n, int64_t M, int64_t N) {
  const int64_t blocks = tiles_m * tiles_n;
  MT_CHECK(blocks <= std::numeric_limits<int32_t>::max(), "gemm: C [", M, ", ", N,
           "] needs more than 2^31 - 1 blocks");
  return unsigned(blocks);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          GemmVersion v) {
  if (M <= 0 || N <= 0) return;
  if (v == GemmVersion::kVendor) {
    vendor::sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // The kernels index rows, columns and k in 32 bits, with room for one
  // tile's round-up past the end (offsets into the matrices are 64-bit).
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max() - 256;
  MT_CHECK(M <= kIntMax && N <= kIntMax && K <= kIntMax, "gemm: sizes M=", M, " N=", N, " K=", K,
           " exceed the kernels' 32-bit indices");
  const int m = int(M), n = int(N), k = int(K);
  const auto checked = [&](const simt::Error& e) {
    check(e, "gemm", "M=", M, " N=", N, " K=", K, " trans_a=", trans_a, " trans_b=", trans_b,
          " lda=", lda, " ldb=", ldb, " ldc=", ldc, " v", int(v));
  };

  if (K <= 0 || alpha == 0.f) {  // C = beta * C; A and B are not read
    if (beta == 1.f) return;
    checked(simt::launch(kern::gemm_scale, dim3(blocks_for(M * N, kBlock)), dim3(kBlock), 0,
                         stream(), m, n, beta, C, ldc));
    return;
  }

  switch (v) {
    case GemmVersion::kV1Naive: {
      // op(A)[i][k] = A[i * a_i + k * a_k], op(B)[k][j] = B[k * b_k + j * b_j].
      const int64_t a_i = trans_a ? 1 : lda, a_k = trans_a ? lda : 1;
      const int64_t b_k = trans_b ? 1 : ldb, b_j = trans_b ? ldb : 1;
      checked(simt::launch(kern::gemm_v1, dim3(blocks_for(M * N, kBlock)), dim3(kBlock), 0,
                           stream(), m, n, k, alpha, A, a_i, a_k, B, b_k, b_j, beta, C, ldc));
      return;
    }
    case GemmVersion::kV2SharedTiles: {
      constexpr int T = kern::kGemmV2Tile;
      const int64_t tiles_n = (N + T - 1) / T;
      const dim3 grid(tile_blocks((M + T - 1) / T, tiles_n, M, N));
      with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
        checked(simt::launch(kern::gemm_v2<decltype(ta)::value, decltype(tb)::value>, grid,
                             dim3(T, T), 0, stream(), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                             int(tiles_n)));
      });
      return;
    }
    case GemmVersion::kVendor:  // handled above
      return;
    case GemmVersion::kV3RegisterTiles:
    case GemmVersion::kV3RegisterTiles64:
    case GemmVersion::kV3RegisterTiles128: {
      const bool large = v == GemmVersion::kV3RegisterTiles128 ||
                         (v == GemmVersion::kV3RegisterTiles && gemm_v3_large_tile(M, N));
      const int tile = large ? 128 : 64;
      const int64_t tiles_n = (N + tile - 1) / tile;
      const dim3 grid(tile_blocks((M + tile - 1) / tile, tiles_n, M, N));
      const bool vec = aligned16(A) && aligned16(B) && lda % 4 == 0 && ldb % 4 == 0;
      const bool vec_c = aligned16(C) && ldc % 4 == 0;
      const auto run = [&](auto kernel) {
        checked(simt::launch(kernel, grid, dim3(kern::kGemmV3Threads), 0, stream(), m, n, k, alpha,
                             A, lda, B, ldb, beta, C, ldc, int(tiles_n), vec_c));
      };
      with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
        constexpr bool kTa = decltype(ta)::value, kTb = decltype(tb)::value;
        if (large) {
          if (vec) {
            run(kern::gemm_v3<2, 2, 8, kTa, kTb, true>);
          } else {
            run(kern::gemm_v3<2, 2, 8, kTa, kTb, false>);
          }
        } else {
          if (vec) {
            run(kern::gemm_v3<1, 1, 16, kTa, kTb, true>);
          } else {
            run(kern::gemm_v3<1, 1, 16, kTa, kTb, false>);
          }
        }
      });
      return;
    }
  }
  fail("gemm: unknown version ", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
