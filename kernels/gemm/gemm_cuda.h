// CUDA twin of gemm.h (float32, device pointers), the same contract:
//
//   C = alpha * op(A) * op(B) + beta * C,   op(X) = X or X^T,   row-major,
//
// op(A) [M, K], op(B) [K, N], C [M, N] with row strides lda, ldb, ldc. C is
// overwritten (read first unless beta == 0; beta == 0 ignores its old
// contents, NaN included); alpha == 0 or K == 0 reads neither A nor B (they may
// be nullptr) and leaves C = beta * C (zeros for beta == 0; untouched for
// beta == 1). M == 0 or N == 0 launches nothing.
//
// Determinism, as on the CPU: every element of C is computed by one thread as
//   c = beta * c_old (0 when beta == 0, c_old when beta == 1);
//   for k = 0 .. K-1:  c += (alpha * a_ik) * b_kj
// in exactly this order, for every version and tile shape. So the emulated
// build (no FMA contraction) gives the CPU twin's bits exactly; nvcc contracts
// each step into one fma, which skips the rounding of the product: a few ulp
// of the partial sums per step, checked with a tolerance on a GPU.
//
// Versions (gemm_cuda.cuh has the kernels):
//   v1  one thread per element of C, the CPU loop (grid-stride over M*N).
//   v2  32x32 tiles of op(A) and op(B) staged in shared memory, one output per
//       thread (32x32 threads): each global element is read once per tile
//       instead of once per output.
//   v3  register blocking: a 64x64x16 (or 128x128x8) block tile, 256 threads,
//       each holding a 4x4 (8x8) micro-tile of C in registers and reading
//       float4s of the shared tiles; float4 global->shared loads where the
//       pointer and leading dimension are 16-byte aligned, scalar otherwise.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {

enum class GemmVersion {
  kV1Naive = 1,             // one thread per output, the CPU loop
  kV2SharedTiles = 2,       // 32x32 shared-memory tiles, one output per thread
  kV3RegisterTiles = 3,     // register micro-tiles; 64x64 or 128x128 block by gemm_v3_large_tile
  kV3RegisterTiles64 = 4,   // v3 pinned to 64x64x16 blocks, 4x4 per thread (tests, benchmarks)
  kV3RegisterTiles128 = 5,  // v3 pinned to 128x128x8 blocks, 8x8 per thread (tests, benchmarks)
  kVendor = 9,              // cuBLAS (kernels/vendor), for comparison: a real GPU only
};
inline constexpr GemmVersion kGemmDefault = GemmVersion::kV3RegisterTiles;

// v3's choice of block tile, by shape alone (the bits never depend on it):
// 128x128 tiles do twice the FMAs per shared-memory read of 64x64, but give a
// quarter of the blocks and round M and N up to 128. So they are used only
// while there are still at least kGemmLargeTileMinBlocks of them (about two
// per SM on a 132-SM H100) and neither side is under kGemmLargeTileMinSide
// (at most a fifth of the work wasted on the round-up). Below that, 64x64
// tiles keep more SMs busy; the nets' GEMMs are all this size. (A rule
// reasoned from the tile shapes, not yet tuned on a GPU.)
inline constexpr int64_t kGemmLargeTileMinBlocks = 256;
inline constexpr int64_t kGemmLargeTileMinSide = 512;
inline bool gemm_v3_large_tile(int64_t M, int64_t N) {
  return M >= kGemmLargeTileMinSide && N >= kGemmLargeTileMinSide &&
         ((M + 127) / 128) * ((N + 127) / 128) >= kGemmLargeTileMinBlocks;
}

}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // A: [M, K] (lda), or [K, M] when trans_a; B: [K, N] (ldb), or [N, K] when
  // trans_b; C: [M, N] (ldc). Same arguments as cpu::gemm, plus the version.
  void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
            const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
            int64_t ldc, GemmVersion v);
)
