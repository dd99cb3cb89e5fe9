// cpu::gemm against a plain triple loop in double, over all four transpose
// combinations, alpha / beta, odd sizes that leave partial register tiles and
// partial K blocks, and strided (ld > width) operands; plus its two promises:
// beta == 0 ignores NaN in C, and the bits do not depend on the thread count
// nor on the vector extension the float micro-kernel uses.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm/gemm.h"

namespace medtex {
namespace {

template <class T>
std::vector<T> random_vec(size_t n, unsigned seed) {
  std::vector<T> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = T(double(seed >> 8) / double(1 << 24) * 2.0 - 1.0);
  }
  return v;
}

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  double alpha, beta;
};

// Runs one case with leading dimensions 3 wider than needed (so that a kernel
// ignoring lda/ldb/ldc fails) and checks every element against the naive sum.
template <class T>
void check_case(const Case& c, double tol) {
  const int64_t pad = 3;
  const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
  const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
  const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = c.N + pad;
  auto A = random_vec<T>(size_t(a_rows * lda), 1);
  auto B = random_vec<T>(size_t(b_rows * ldb), 2);
  auto C = random_vec<T>(size_t(c.M * ldc), 3);
  const auto C0 = C;
  cpu::gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta),
               C.data(), ldc);
  int64_t bad = 0;
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = c.ta ? A[size_t(k * lda + i)] : A[size_t(i * lda + k)];
        const double b = c.tb ? B[size_t(j * ldb + k)] : B[size_t(k * ldb + j)];
        s += a * b;
      }
      const double ref = c.alpha * s + (c.beta == 0 ? 0.0 : c.beta * C0[size_t(i * ldc + j)]);
      const double got = C[size_t(i * ldc + j)];
      if (!(std::abs(got - ref) <= tol * (1 + std::abs(ref)))) {
        if (bad < 5) {
          ADD_FAILURE() << "ta=" << c.ta << " tb=" << c.tb << " " << c.M << "x" << c.N << "x" << c.K
                        << " C[" << i << "," << j << "] = " << got << ", expected " << ref;
        }
        ++bad;
      }
    }
    // The padding columns of C are not part of the matrix: untouched.
    for (int64_t j = c.N; j < ldc; ++j) {
      ASSERT_EQ(C[size_t(i * ldc + j)], C0[size_t(i * ldc + j)]) << "wrote past N in row " << i;
    }
  }
  EXPECT_EQ(bad, 0);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  // Sizes: tiny, a full register tile, odd ones crossing tile and K-block
  // (256) edges.
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {
      {1, 1, 1}, {6, 8, 4}, {33, 17, 45}, {129, 65, 70}, {7, 300, 513}, {100, 3, 260}};
  const std::vector<std::pair<double, double>> scales = {{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0.25}};
  for (auto [M, N, K] : sizes) {
    for (int t = 0; t < 4; ++t) {
      for (auto [alpha, beta] : scales)
        cases.push_back({bool(t & 1), bool(t & 2), M, N, K, alpha, beta});
    }
  }
  return cases;
}

TEST(Gemm, MatchesNaiveFloat) {
  // float sums of up to 513 products of values in [-1, 1]: each rounding
  // adds up to 2^-24 of the running sum, so 1e-4 relative is ample.
  for (const Case& c : all_cases()) check_case<float>(c, 1e-4);
}

TEST(Gemm, MatchesNaiveDouble) {
  // Same in double: 1e-12 relative leaves room for K roundings of 2^-53.
  for (const Case& c : all_cases()) check_case<double>(c, 1e-12);
}

TEST(Gemm, BetaZeroIgnoresNaN) {
  const int64_t M = 13, N = 11, K = 9;
  auto A = random_vec<float>(size_t(M * K), 4);
  auto B = random_vec<float>(size_t(K * N), 5);
  std::vector<float> C(size_t(M * N), std::numeric_limits<float>::quiet_NaN());
  cpu::gemm<float>(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  for (float v : C) ASSERT_TRUE(std::isfinite(v));
  // K == 0 with beta == 0 writes zeros, also over NaN.
  std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  cpu::gemm<float>(false, false, M, N, 0, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  for (float v : C) ASSERT_EQ(v, 0.0f);
}

TEST(Gemm, ZeroKScalesC) {
  std::vector<double> C = {1, 2, 3, 4};
  cpu::gemm<double>(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 3.0, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{3, 6, 9, 12}));
}

// beta == 1 continues the running sum in C, so two calls over halves of K
// equal one call over all of K bit for bit (conv2d's weight gradient relies
// on this when it walks the batch in chunks).
TEST(Gemm, SplitKWithBetaOneIsBitwiseEqual) {
  const int64_t M = 37, N = 29, K = 301, K1 = 140;
  auto A = random_vec<float>(size_t(M * K), 6);
  auto B = random_vec<float>(size_t(K * N), 7);
  std::vector<float> whole(size_t(M * N)), split(size_t(M * N), 0.0f);
  cpu::gemm<float>(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, whole.data(), N);
  cpu::gemm<float>(false, false, M, N, K1, 1.0f, A.data(), K, B.data(), N, 1.0f, split.data(), N);
  cpu::gemm<float>(false, false, M, N, K - K1, 1.0f, A.data() + K1, K, B.data() + K1 * N, N, 1.0f,
                   split.data(), N);
  EXPECT_EQ(whole, split);
}

TEST(Gemm, BitwiseIdenticalForAnyThreadCount) {
  for (const Case& c : std::vector<Case>{{false, false, 129, 65, 700, 1, 0},
                                         {true, true, 257, 300, 300, 0.5, 1},
                                         {false, true, 16, 4100, 27, 1, 0}}) {
    const int64_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
    auto A = random_vec<float>(size_t(c.M * c.K), 8);
    auto B = random_vec<float>(size_t(c.K * c.N), 9);
    const auto C0 = random_vec<float>(size_t(c.M * c.N), 10);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      auto C = C0;
      cpu::gemm<float>(c.ta, c.tb, c.M, c.N, c.K, float(c.alpha), A.data(), lda, B.data(), ldb,
                       float(c.beta), C.data(), c.N);
      results.push_back(C);
    }
    set_num_threads(0);
    EXPECT_EQ(results[0], results[1]) << c.M << "x" << c.N << "x" << c.K;
    EXPECT_EQ(results[0], results[2]) << c.M << "x" << c.N << "x" << c.K;
  }
}

// The AVX2 and AVX-512 micro-kernels give the baseline's bits on every case
// (all transposes, alpha / beta, edge tiles, K blocks, padded strides), and
// ignore NaN in C with beta == 0. On a CPU without the extension there is
// nothing to run: the test says so and skips.
class GemmIsa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(GemmIsa, BitwiseEqualToBaseline) {
  const cpu::Isa isa = GetParam();
  if (cpu::supported_isa() < isa) {
    GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(isa) << " (has "
                 << cpu::isa_name(cpu::supported_isa()) << ")";
  }
  for (const Case& c : all_cases()) {
    const int64_t pad = 3;
    const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
    const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
    const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = c.N + pad;
    const auto A = random_vec<float>(size_t(a_rows * lda), 11);
    const auto B = random_vec<float>(size_t(b_rows * ldb), 12);
    const auto C0 = random_vec<float>(size_t(c.M * ldc), 13);
    auto base = C0, wide = C0;
    cpu::gemm_isa<float>(cpu::Isa::kBaseline, c.ta, c.tb, c.M, c.N, c.K, float(c.alpha), A.data(),
                         lda, B.data(), ldb, float(c.beta), base.data(), ldc);
    cpu::gemm_isa<float>(isa, c.ta, c.tb, c.M, c.N, c.K, float(c.alpha), A.data(), lda, B.data(),
                         ldb, float(c.beta), wide.data(), ldc);
    ASSERT_EQ(base, wide) << cpu::isa_name(isa) << " ta=" << c.ta << " tb=" << c.tb << " " << c.M
                          << "x" << c.N << "x" << c.K << " alpha=" << c.alpha
                          << " beta=" << c.beta;
  }
  const int64_t M = 13, N = 35, K = 9;
  const auto A = random_vec<float>(size_t(M * K), 4);
  const auto B = random_vec<float>(size_t(K * N), 5);
  std::vector<float> C(size_t(M * N), std::numeric_limits<float>::quiet_NaN());
  cpu::gemm_isa<float>(isa, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(),
                       N);
  for (float v : C) ASSERT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(WideKernels, GemmIsa,
                         ::testing::Values(cpu::Isa::kAvx2, cpu::Isa::kAvx512),
                         [](const ::testing::TestParamInfo<cpu::Isa>& p) {
                           return p.param == cpu::Isa::kAvx2 ? std::string("Avx2")
                                                                : std::string("Avx512");
                         });

}  // namespace
}  // namespace medtex
