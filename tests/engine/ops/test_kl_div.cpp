#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

// A strictly positive distribution along the last dim, as a fresh leaf.
Tensor probabilities(const Shape& shape, uint64_t seed) {
  Tensor p = ops::softmax(test::random_double(shape, seed, -2.0, 2.0), -1).detach();
  return p.set_requires_grad();
}

Tensor log_probabilities(const Shape& shape, uint64_t seed) {
  Tensor lq = ops::log_softmax(test::random_double(shape, seed, -2.0, 2.0), -1).detach();
  return lq.set_requires_grad();
}

Tensor kd_loss(const Tensor& s, const Tensor& t, double temperature) {
  return ops::kl_div(ops::log_softmax(s, -1, temperature), ops::softmax(t, -1, temperature));
}

TEST(KlDiv, GradcheckDoubleBothArguments) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 4}, Shape{1, 7}}) {
    Tensor lq = log_probabilities(shape, 41);
    Tensor p = probabilities(shape, 42);
    EXPECT_TRUE(test::gradcheck(
        [](const std::vector<Tensor>& in) { return ops::kl_div(in[0], in[1]); }, {lq, p}))
        << shape;
  }
}

TEST(KlDiv, GradcheckDistillationComposition) {
  for (double temp : {1.0, 0.5, 4.0}) {
    Tensor s = test::random_double({3, 5}, 43, -3.0, 3.0).set_requires_grad();
    Tensor t = test::random_double({3, 5}, 44, -3.0, 3.0).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) { return kd_loss(in[0], in[1], temp); }, {s, t}))
        << "T " << temp;
  }
}

TEST(KlDiv, KnownValues) {
  // KL(p || p) = 0, and KL(p || uniform(d)) = log d - H(p).
  Tensor p = probabilities({2, 4}, 45).detach();
  Tensor logp = Tensor::empty({2, 4}, DType::F64);
  for (int i = 0; i < 8; ++i) logp.data<double>()[i] = std::log(p.data<double>()[i]);
  EXPECT_NEAR(ops::kl_div(logp, p).item(), 0.0, 1e-15);
  Tensor log_uniform = Tensor::full({2, 4}, -std::log(4.0), DType::F64);
  double entropy = 0;
  for (int i = 0; i < 8; ++i) entropy -= p.data<double>()[i] * logp.data<double>()[i];
  EXPECT_NEAR(ops::kl_div(log_uniform, p).item(), (2 * std::log(4.0) - entropy) / 2, 1e-14);
}

TEST(KlDiv, MatchesPyTorch) {
  test::Fixture f("kl_div");
  for (const auto& c : f.cases()) {
    const auto params = f.params(c);
    if (params["kd"].get<bool>()) {
      Tensor s = f.get(c, "s").set_requires_grad();
      Tensor t = f.get(c, "t").set_requires_grad();
      Tensor loss = kd_loss(s, t, params["temperature"].get<double>());
      loss.backward(f.get(c, "grad_y"));
      // float32 through three ops on both sides; ours sums in double. With
      // +-80 logits the KL reaches ~10 and its gradient is a difference of
      // softmaxes, so a few float ulp of those magnitudes.
      test::expect_fixture("kl_div", c, "loss", loss, f.get(c, "loss"), 1e-6, 1e-5);
      test::expect_fixture("kl_div", c, "grad_s", s.grad(), f.get(c, "grad_s"), 1e-6, 1e-5);
      test::expect_fixture("kl_div", c, "grad_t", t.grad(), f.get(c, "grad_t"), 1e-6, 1e-5);
      continue;
    }
    Tensor lq = f.get(c, "log_q").set_requires_grad();
    Tensor p = f.get(c, "p").set_requires_grad();
    Tensor loss = ops::kl_div(lq, p);
    loss.backward(f.get(c, "grad_y"));
    // One float32 sum of a few dozen terms; ours in double.
    test::expect_fixture("kl_div", c, "loss", loss, f.get(c, "loss"), 1e-7, 1e-6);
    // -p * g / N: one rounding each side.
    test::expect_fixture("kl_div", c, "grad_log_q", lq.grad(), f.get(c, "grad_log_q"), 1e-7, 1e-6);
    // At p == 0 PyTorch 1.13 gives NaN (its xlogy backward divides 0 by 0);
    // ours is 0, the gradient of the "0 log 0 = 0" branch (see kl_div.h).
    // Check that, then compare the rest with those entries set to 0.
    Tensor expected = f.get(c, "grad_p");
    const float* pv = p.data<float>();
    float* ev = expected.data<float>();
    const float* gv = p.grad().data<float>();
    int zeros = 0;
    for (int64_t i = 0; i < p.numel(); ++i) {
      if (pv[i] != 0) continue;
      ++zeros;
      EXPECT_TRUE(std::isnan(ev[i])) << c << " PyTorch's grad_p at p == 0, index " << i;
      EXPECT_EQ(gv[i], 0.0f) << c << " index " << i;
      ev[i] = 0;
    }
    EXPECT_EQ(zeros, c == "p_zero" ? 3 : 0) << c;
    // log p + 1 - log q, up to ~5 before the 1/N: a few float ulp.
    test::expect_fixture("kl_div", c, "grad_p", p.grad(), expected, 1e-6, 1e-5);
  }
}

TEST(KlDiv, ZeroProbabilityContributesNothing) {
  // p == 0 against log q = -inf (a class the student rules out entirely):
  // the term is 0 * (log 0 - (-inf)), taken as 0. PyTorch 1.13 returns NaN.
  const double inf = std::numeric_limits<double>::infinity();
  Tensor lq = Tensor::from_vector<double>({-inf, std::log(0.25), std::log(0.75)}, {1, 3});
  Tensor p = Tensor::from_vector<double>({0.0, 0.5, 0.5}, {1, 3});
  lq.set_requires_grad();
  p.set_requires_grad();
  Tensor loss = ops::kl_div(lq, p);
  const double want = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  EXPECT_NEAR(loss.item(), want, 1e-15);
  loss.backward();
  EXPECT_EQ(lq.grad().to_vector<double>()[0], 0.0);
  EXPECT_EQ(p.grad().to_vector<double>()[0], 0.0);
  EXPECT_TRUE(std::isfinite(p.grad().to_vector<double>()[1]));
}

TEST(KlDiv, SaturatedTeacherGivesFiniteGradients) {
  // softmax of [80, -80] in float has an exact 0; PyTorch's gradient through
  // it is NaN for the whole row, ours stays finite.
  Tensor t = Tensor::from_vector<float>({80, -80, 0, 1}, {2, 2}).set_requires_grad();
  Tensor s = Tensor::from_vector<float>({1, 2, 3, -1}, {2, 2}).set_requires_grad();
  Tensor loss = kd_loss(s, t, 1.0);
  loss.backward();
  for (float g : t.grad().to_vector<float>()) EXPECT_TRUE(std::isfinite(g));
  for (float g : s.grad().to_vector<float>()) EXPECT_TRUE(std::isfinite(g));
}

TEST(KlDiv, SameBitsForAnyThreadCount) {
  // 8 x 10007 elements: several fixed chunks, split across threads.
  const Tensor lq0 = ops::log_softmax(test::random_float({8, 10007}, 46, -3.0, 3.0), -1);
  const Tensor p0 = ops::softmax(test::random_float({8, 10007}, 47, -3.0, 3.0), -1);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor lq = lq0.copy().set_requires_grad();
    Tensor p = p0.copy().set_requires_grad();
    Tensor loss = ops::kl_div(lq, p);
    loss.backward();
    return {loss, lq.grad(), p.grad()};
  });
}

TEST(KlDiv, RejectsBadArguments) {
  Tensor a = test::random_float({3, 4}, 48);
  EXPECT_THROW(ops::kl_div(a, test::random_float({3, 5}, 49)), Error);
  EXPECT_THROW(ops::kl_div(a, test::random_float({4, 3}, 49)), Error);
  EXPECT_THROW(ops::kl_div(Tensor::scalar(0.5), Tensor::scalar(0.5)), Error);  // no batch dim
  EXPECT_THROW(ops::kl_div(Tensor::zeros({0, 4}), Tensor::zeros({0, 4})), Error);
  EXPECT_THROW(ops::kl_div(a, test::random_double({3, 4}, 50)), Error);  // mixed types
  EXPECT_THROW(ops::kl_div(Tensor::zeros({3, 4}, DType::I32), Tensor::zeros({3, 4}, DType::I32)),
               Error);
}

}  // namespace
}  // namespace medtex
