#include <algorithm>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "medtex/method/relaxed_topk.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(RelaxedTopK, ValuesInUnitIntervalAndAboutKOnes) {
  Generator gen = Generator(1).fork("gumbel");
  const int n = 64, d = 64, k = 8;
  const Tensor logits = test::random_float({n, d}, 2, -0.1, 0.1);  // nearly uniform
  const Tensor z = method::relaxed_topk(logits, k, 0.5, gen);
  ASSERT_EQ(z.shape(), (Shape{n, d}));
  for (float v : z.to_vector<float>()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  // At a small tau every sample is (nearly) one-hot: z holds at most k ones,
  // fewer only when two draws pick the same patch. With d = 64 near-uniform
  // patches, k = 8 draws cover 64 * (1 - (63/64)^8) = 7.57 distinct ones on
  // average.
  const Tensor sharp = method::relaxed_topk(logits, k, 0.01, gen);
  const auto v = sharp.to_vector<float>();
  double total = 0;
  for (int r = 0; r < n; ++r) {
    double row = 0;
    int near_one = 0;
    for (int j = 0; j < d; ++j) {
      row += v[size_t(r * d + j)];
      near_one += v[size_t(r * d + j)] > 0.99f;
    }
    EXPECT_LE(row, k + 1e-3) << r;
    EXPECT_GE(near_one, 1) << r;
    EXPECT_LE(near_one, k) << r;
    total += row;
  }
  EXPECT_NEAR(total / n, 7.57, 0.5);
}

// The tau -> 0 limit of each Gumbel-softmax sample is the one-hot of
// argmax(e + g_i), so the relaxed mask tends to the union of those k argmaxes.
TEST(RelaxedTopK, SmallTauLimitIsTheUnionOfPerturbedArgmaxes) {
  const int n = 5, d = 12, k = 3;
  const Tensor logits = test::random_double({n, d}, 3);
  Generator gen(4);
  const Tensor noise = ops::gumbel({k, n, d}, gen, DType::F64);
  const Tensor z = method::relaxed_topk_from_noise(logits, noise, 1e-4);
  const auto e = logits.to_vector<double>(), g = noise.to_vector<double>();
  std::vector<double> expected(size_t(n * d), 0.0);
  for (int i = 0; i < k; ++i) {
    for (int r = 0; r < n; ++r) {
      int best = 0;
      for (int j = 1; j < d; ++j) {
        const size_t a = size_t(i * n * d + r * d + j), b = size_t(i * n * d + r * d + best);
        if (e[size_t(r * d + j)] + g[a] > e[size_t(r * d + best)] + g[b]) best = j;
      }
      expected[size_t(r * d + best)] = 1.0;
    }
  }
  EXPECT_TRUE(test::all_close(z, Tensor::from_vector(expected, {n, d}), 1e-9, 0));
}

// With one draw and no noise the relaxation's limit is exactly the hard top-1;
// for k > 1, the patches the relaxed mask keeps most often over many draws
// are the hard top-k of clearly separated logits.
TEST(RelaxedTopK, AgreesWithHardTopKInTheLimit) {
  const Tensor logits = test::random_double({4, 9}, 5);
  const Tensor z1 =
      method::relaxed_topk_from_noise(logits, Tensor::zeros({1, 4, 9}, DType::F64), 1e-4);
  EXPECT_TRUE(test::all_close(z1, method::hard_topk(logits, 1), 1e-9, 0));

  const int d = 16, k = 4, draws = 400;
  std::vector<float> e(d, 0.0f);
  for (int j : {2, 7, 11, 13}) e[size_t(j)] = 3.0f;  // the top 4, far above the rest
  const Tensor row = Tensor::from_vector(e, {1, d});
  Generator gen(6);
  std::vector<float> freq(d, 0.0f);
  for (int t = 0; t < draws; ++t) {
    const auto z = method::relaxed_topk(row, k, 0.1, gen).to_vector<float>();
    for (int j = 0; j < d; ++j) freq[size_t(j)] += z[size_t(j)];
  }
  const Tensor by_freq = method::hard_topk(Tensor::from_vector(freq, {1, d}), k);
  EXPECT_TRUE(test::bitwise_equal(by_freq, method::hard_topk(row, k)));
}

TEST(RelaxedTopK, SameSeedSameMaskFreshNoiseEachCall) {
  const Tensor logits = test::random_float({3, 16}, 7);
  Generator a = Generator(42).fork("gumbel"), b = Generator(42).fork("gumbel");
  const Tensor za = method::relaxed_topk(logits, 4, 0.5, a);
  const Tensor zb = method::relaxed_topk(logits, 4, 0.5, b);
  EXPECT_TRUE(test::bitwise_equal(za, zb));
  EXPECT_FALSE(test::bitwise_equal(za, method::relaxed_topk(logits, 4, 0.5, a)));  // next draw
  Generator c = Generator(43).fork("gumbel");
  EXPECT_FALSE(test::bitwise_equal(za, method::relaxed_topk(logits, 4, 0.5, c)));
  // relaxed_topk is gumbel_noise + relaxed_topk_from_noise.
  Generator d = Generator(42).fork("gumbel");
  const Tensor noise = method::gumbel_noise(4, logits, d);
  EXPECT_EQ(noise.shape(), (Shape{4, 3, 16}));
  EXPECT_EQ(noise.dtype(), DType::F32);
  EXPECT_TRUE(test::bitwise_equal(za, method::relaxed_topk_from_noise(logits, noise, 0.5)));
}

TEST(RelaxedTopK, HardTopKKeepsExactlyK) {
  const Tensor logits = test::random_float({6, 64}, 8);
  const auto m = method::hard_topk(logits, 8).to_vector<float>();
  for (int r = 0; r < 6; ++r) {
    EXPECT_EQ(std::accumulate(m.begin() + r * 64, m.begin() + (r + 1) * 64, 0.0f), 8.0f);
  }
}

TEST(RelaxedTopK, GradcheckAtFixedNoise) {
  const int n = 2, d = 7, k = 3;
  Tensor logits = test::random_double({n, d}, 9).set_requires_grad();
  Generator gen(10);
  const Tensor noise = ops::gumbel({k, n, d}, gen, DType::F64);
  for (double tau : {0.5, 1.0, 2.0}) {
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return method::relaxed_topk_from_noise(in[0], noise, tau);
        },
        {logits}))
        << "tau " << tau;
  }
}

TEST(RelaxedTopK, BadArguments) {
  Generator gen(11);
  const Tensor logits = test::random_float({2, 8}, 12);
  EXPECT_THROW(method::relaxed_topk(logits, 9, 0.5, gen), Error);  // k > d
  EXPECT_THROW(method::relaxed_topk(logits, 0, 0.5, gen), Error);
  EXPECT_THROW(method::relaxed_topk(logits, 2, 0.0, gen), Error);  // tau
  EXPECT_THROW(method::relaxed_topk(test::random_float({2, 2, 2}, 1), 1, 0.5, gen), Error);
  EXPECT_THROW(method::relaxed_topk_from_noise(logits, Tensor::zeros({2, 2, 7}), 0.5), Error);
  EXPECT_THROW(method::relaxed_topk_from_noise(logits, Tensor::zeros({2, 8}), 0.5), Error);
}

}  // namespace
}  // namespace medtex
