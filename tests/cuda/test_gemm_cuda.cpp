// gemm on the GPU backends against its CPU twin: every version, all four
// transpose combinations, odd sizes, alpha/beta, padded and misaligned
// operands.
//
// Tolerance. Every version keeps the CPU's per-element order (gemm_cuda.h), and
// the emulated build, like the CPU one, never contracts a multiply-add: there
// the whole C buffer must match the CPU's bit for bit. nvcc fuses each
// c += (alpha a) b into one fma, which skips the rounding of the product: each
// of the K steps may then differ by about an ulp of the running sum. With
// |a|, |b|, |c| <= 1 and |alpha| <= 2 the sums stay below 2 K + 1, so an ulp
// of them is at most (2 K + 1) 2^-23 < 2.5e-7 (K + 1) per step in the worst
// case, and about sqrt(K) ulp of a typical sum in all. On a GPU,
// |got - cpu| <= 1e-6 (K + 1) + 1e-5 |cpu| leaves a wide margin over that
// (not yet run on a GPU) and still catches a wrong index or a lost term.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

using gpu::GemmVersion;

class GemmCuda : public test::GpuTest {};

constexpr GemmVersion kAllVersions[] = {
    GemmVersion::kV1Naive,
    GemmVersion::kV2SharedTiles,
    GemmVersion::kV3RegisterTiles,
    GemmVersion::kV3RegisterTiles64,
    GemmVersion::kV3RegisterTiles128,
};

struct GemmRun {
  bool trans_a = false, trans_b = false;
  int64_t M = 1, N = 1, K = 1;
  float alpha = 1.f, beta = 0.f;
  bool padded = false;   // leading dimensions rounded up to a multiple of 4, plus 4
  int64_t offset = 0;    // floats between each buffer's start and its matrix (1: misaligned)
  bool nan_c = false;    // C starts as NaN (only meaningful with beta == 0)
  bool null_ab = false;  // A and B are nullptr (only with alpha == 0 or K == 0)
};

std::ostream& operator<<(std::ostream& os, const GemmRun& r) {
  return os << "M=" << r.M << " N=" << r.N << " K=" << r.K << " trans_a=" << r.trans_a
            << " trans_b=" << r.trans_b << " alpha=" << r.alpha << " beta=" << r.beta
            << " padded=" << r.padded << " offset=" << r.offset << " nan_c=" << r.nan_c;
}

int64_t leading(int64_t cols, bool padded) {
  return padded ? (cols + 3) / 4 * 4 + 4 : std::max<int64_t>(cols, 1);
}

// A: rows x ld floats after `offset` (at least one element), random in [-1, 1].
Tensor buffer(int64_t offset, int64_t rows, int64_t ld, uint64_t seed) {
  return test::random_float({std::max<int64_t>(offset + rows * ld, 1)}, seed);
}

struct GemmBuffers {
  Tensor a, b, c;
  int64_t lda, ldb, ldc;
};

GemmBuffers make_buffers(const GemmRun& r, uint64_t seed) {
  GemmBuffers g;
  // Stored shapes: A [M, K] or [K, M]; B [K, N] or [N, K]; C [M, N].
  const int64_t a_rows = r.trans_a ? r.K : r.M, a_cols = r.trans_a ? r.M : r.K;
  const int64_t b_rows = r.trans_b ? r.N : r.K, b_cols = r.trans_b ? r.K : r.N;
  g.lda = leading(a_cols, r.padded);
  g.ldb = leading(b_cols, r.padded);
  g.ldc = leading(r.N, r.padded);
  g.a = buffer(r.offset, a_rows, g.lda, seed);
  g.b = buffer(r.offset, b_rows, g.ldb, seed + 1);
  g.c = buffer(r.offset, r.M, g.ldc, seed + 2);
  if (r.nan_c) g.c.fill_(std::numeric_limits<double>::quiet_NaN());
  return g;
}

// C after cpu::gemm, the whole buffer (padding and offset included: they
// must come back untouched).
Tensor cpu_gemm(const GemmRun& r, const GemmBuffers& g) {
  Tensor c = g.c.copy();
  cpu::gemm<float>(r.trans_a, r.trans_b, r.M, r.N, r.K, r.alpha,
                   r.null_ab ? nullptr : g.a.data<float>() + r.offset, g.lda,
                   r.null_ab ? nullptr : g.b.data<float>() + r.offset, g.ldb, r.beta,
                   c.data<float>() + r.offset, g.ldc);
  return c;
}

// The same on the active GPU backend under every schedule; C's buffer on the CPU.
Tensor gpu_gemm(const GemmRun& r, const GemmBuffers& g, GemmVersion v) {
  return test::run_all_schedules([&] {
    const Tensor a = test::to_gpu(g.a), b = test::to_gpu(g.b);
    Tensor c = test::to_gpu(g.c);
    MT_GPU(gemm)(r.trans_a, r.trans_b, r.M, r.N, r.K, r.alpha,
                 r.null_ab ? nullptr : a.data<float>() + r.offset, g.lda,
                 r.null_ab ? nullptr : b.data<float>() + r.offset, g.ldb, r.beta,
                 c.data<float>() + r.offset, g.ldc, v);
    return std::vector<Tensor>{c};
  })[0];
}

// Bitwise on the emulator, the fma tolerance (top of the file) on a GPU.
void expect_matches_cpu(const GemmRun& r, GemmVersion v, bool emulated, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << r << " v" << int(v));
  const GemmBuffers g = make_buffers(r, seed);
  const Tensor want = cpu_gemm(r, g);
  const Tensor got = gpu_gemm(r, g, v);
  if (emulated) {
    EXPECT_TRUE(test::bitwise_equal(got, want))
        << "max |diff| " << test::max_abs_diff(got, want) << "\n"
        << test::all_close(got, want, 0, 0).message();
  } else {
    EXPECT_TRUE(test::all_close(got, want, 1e-6 * double(r.K + 1), 1e-5));
  }
}

struct Size {
  int64_t M, N, K;
};

// Odd sizes around the tiles (32 for v2; 64x64x16 and 128x128x8 for v3):
// single elements, sizes below, at and past one tile, K spanning several
// steps with a partial last one, and a C wider than one 128 tile.
constexpr Size kSizes[] = {{1, 1, 1},    {7, 13, 5},   {33, 65, 17},
                           {70, 3, 129}, {64, 64, 16}, {130, 67, 40}};

TEST_P(GemmCuda, EveryVersionAndTransposeMatchesTheCpuTwin) {
  uint64_t seed = 1;
  for (const Size& s : kSizes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (GemmVersion v : kAllVersions) {
          GemmRun r;
          r.trans_a = ta, r.trans_b = tb, r.M = s.M, r.N = s.N, r.K = s.K;
          expect_matches_cpu(r, v, emulated(), seed += 3);
        }
      }
    }
  }
}

// Leading dimensions padded to multiples of 4 with odd sizes: v3 takes its
// float4 loads and stores (with scalar edges); then the same with every
// buffer one float off 16-byte alignment, which must fall back to scalar.
TEST_P(GemmCuda, PaddedAndMisalignedOperands) {
  uint64_t seed = 100;
  for (const Size& s : {Size{7, 13, 5}, Size{33, 65, 17}, Size{130, 67, 40}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (int64_t offset : {0, 1}) {
          for (GemmVersion v : kAllVersions) {
            GemmRun r;
            r.trans_a = ta, r.trans_b = tb, r.M = s.M, r.N = s.N, r.K = s.K;
            r.padded = true, r.offset = offset;
            expect_matches_cpu(r, v, emulated(), seed += 3);
          }
        }
      }
    }
  }
}

// alpha scales op(A) before the product, beta starts the sum (beta == 1
// takes C as it is, beta == 0 ignores it even when it is NaN).
TEST_P(GemmCuda, AlphaAndBeta) {
  struct AlphaBeta {
    float alpha, beta;
    bool nan_c;
  };
  const AlphaBeta kCases[] = {
      {1.f, 1.f, false}, {-0.5f, 0.75f, false}, {2.f, 0.f, true}, {0.3f, -1.f, false}};
  uint64_t seed = 200;
  for (const Size& s : {Size{7, 13, 5}, Size{33, 65, 17}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (const AlphaBeta& ab : kCases) {
          for (GemmVersion v : kAllVersions) {
            GemmRun r;
            r.trans_a = ta, r.trans_b = tb, r.M = s.M, r.N = s.N, r.K = s.K;
            r.alpha = ab.alpha, r.beta = ab.beta, r.nan_c = ab.nan_c, r.padded = true;
            expect_matches_cpu(r, v, emulated(), seed += 3);
          }
        }
      }
    }
  }
}

// K == 0 or alpha == 0: C = beta * C without reading A or B (nullptr here);
// beta == 0 writes zeros over NaN, beta == 1 leaves C alone. M == 0 or
// N == 0: nothing happens.
TEST_P(GemmCuda, EmptyAndDegenerateSizes) {
  uint64_t seed = 300;
  for (GemmVersion v : kAllVersions) {
    for (float beta : {0.f, 1.f, 0.5f}) {
      for (const Size& s : {Size{7, 13, 0}, Size{0, 5, 3}, Size{5, 0, 3}, Size{0, 0, 0}}) {
        GemmRun r;
        r.M = s.M, r.N = s.N, r.K = s.K, r.beta = beta, r.nan_c = beta == 0.f;
        r.null_ab = true;
        expect_matches_cpu(r, v, emulated(), seed += 3);
      }
      GemmRun r;  // alpha == 0 with K > 0
      r.M = 9, r.N = 11, r.K = 6, r.alpha = 0.f, r.beta = beta, r.null_ab = true;
      r.trans_a = true;
      expect_matches_cpu(r, v, emulated(), seed += 3);
    }
  }
}

// beta == 1 continues each element's sum where C left it, so C += A B over
// two calls that split K equals one call over all of K, bit for bit, on any
// backend (conv2d and linear's weight gradient rely on it).
TEST_P(GemmCuda, SplitKWithBetaOneEqualsOneCall) {
  const int64_t M = 37, N = 29, K1 = 19, K2 = 22, K = K1 + K2;
  const Tensor a = test::random_float({M, K}, 1), b = test::random_float({K, N}, 2);
  const Tensor c0 = test::random_float({M, N}, 3);
  for (GemmVersion v : kAllVersions) {
    SCOPED_TRACE(::testing::Message() << "v" << int(v));
    const auto got = test::run_all_schedules([&] {
      const Tensor ga = test::to_gpu(a), gb = test::to_gpu(b);
      Tensor one = test::to_gpu(c0), two = test::to_gpu(c0);
      MT_GPU(gemm)(false, false, M, N, K, 1.f, ga.data<float>(), K, gb.data<float>(), N, 1.f,
                   one.data<float>(), N, v);
      MT_GPU(gemm)(false, false, M, N, K1, 1.f, ga.data<float>(), K, gb.data<float>(), N, 1.f,
                   two.data<float>(), N, v);
      MT_GPU(gemm)(false, false, M, N, K2, 1.f, ga.data<float>() + K1, K,
                   gb.data<float>() + K1 * N, N, 1.f, two.data<float>(), N, v);
      return std::vector<Tensor>{one, two};
    });
    EXPECT_TRUE(test::bitwise_equal(got[0], got[1]))
        << "max |diff| " << test::max_abs_diff(got[0], got[1]);
  }
}

// v3's tile choice depends on the shape alone: 128x128 tiles only while
// there are at least kGemmLargeTileMinBlocks of them and both sides are long.
TEST(GemmCudaTiles, LargeTilesOnlyForLargeC) {
  EXPECT_FALSE(gpu::gemm_v3_large_tile(1024, 1024));  // 64 tiles of 128
  EXPECT_FALSE(gpu::gemm_v3_large_tile(256, 1000));   // the nets' classifier GEMM
  EXPECT_TRUE(gpu::gemm_v3_large_tile(2048, 2048));   // 256 tiles of 128
  EXPECT_TRUE(gpu::gemm_v3_large_tile(4096, 4096));
  EXPECT_FALSE(gpu::gemm_v3_large_tile(32, 1 << 20));  // many tiles, but 3/4 of each wasted
  EXPECT_FALSE(gpu::gemm_v3_large_tile(1 << 20, 64));
}

MT_GPU_TEST_SUITE(GemmCuda);

}  // namespace
}  // namespace medtex
