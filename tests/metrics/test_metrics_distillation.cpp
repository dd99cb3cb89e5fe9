// Distillation metrics against hand-computed cases and PyTorch 1.13
// (Debian python3-torch, F.kl_div in float64 at dev time; values hard-coded).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/metrics/distillation.h"

namespace medtex::metrics {
namespace {

TEST(MetricsDistillation, TopOneAgreement) {
  const std::vector<float> t = {2.f, 1.f, 0.f, 0.f, 3.f, 1.f, 1.f, 1.f, 0.f};
  const std::vector<float> s = {0.f, 5.f, 0.f, 1.f, 2.f, 0.f, 0.f, 1.f, 1.f};
  // argmax: teacher {0, 1, 0 (tie -> first)}, student {1, 1, 1 (tie -> first)}.
  EXPECT_DOUBLE_EQ(top1_agreement(t, s, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(top1_agreement(t, t, 3), 1.0);
  EXPECT_DOUBLE_EQ(top1_agreement(std::vector<int>{0, 1, 2, 2}, std::vector<int>{0, 1, 1, 2}),
                   0.75);
  EXPECT_THROW(top1_agreement(t, std::vector<float>{1.f, 2.f, 3.f}, 3), Error);
}

TEST(MetricsDistillation, KlByHand) {
  // Teacher uniform over 2 classes, student q = (3/4, 1/4) from logits
  // (ln 3, 0): KL = 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3).
  const std::vector<float> t = {0.f, 0.f};
  const std::vector<float> s = {std::log(3.0f), 0.f};
  // 1e-7: ln 3 is rounded to float before the softmax.
  EXPECT_NEAR(mean_kl(t, s, 2), 0.5 * std::log(4.0 / 3.0), 1e-7);
  // At T = 2 the same distributions come from logits twice as large.
  const std::vector<float> s2 = {2.0f * std::log(3.0f), 0.f};
  EXPECT_NEAR(mean_kl(t, s2, 2, 2.0), 0.5 * std::log(4.0 / 3.0), 1e-7);
  // KL(p || p) = 0, and the shift invariance of softmax.
  EXPECT_NEAR(mean_kl(std::vector<float>{1.f, 2.f, 3.f}, std::vector<float>{11.f, 12.f, 13.f}, 3),
              0.0, 1e-15);
  // Direction: KL(teacher || student) differs from the reverse here.
  EXPECT_GT(std::abs(mean_kl(t, s, 2) - mean_kl(s, t, 2)), 1e-3);
}

TEST(MetricsDistillation, KlMatchesPyTorch) {
  const std::vector<float> t = {1.5f,  -0.3f, 0.2f, 2.0f,  0.0f, 0.1f,
                                -1.2f, 0.4f,  3.0f, -2.0f, 0.5f, 0.5f};
  const std::vector<float> s = {0.5f,  0.3f, -0.2f, 1.0f,  0.2f, 0.2f,
                                -0.7f, 0.1f, 1.0f,  -1.0f, 1.5f, 0.0f};
  // F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction='batchmean')
  // on the float32 logits cast to float64, PyTorch 1.13. Both sides work in
  // double from the same float inputs: 1e-12 is last-bit slack.
  EXPECT_NEAR(mean_kl(t, s, 4, 1.0), 0.2674770538920279, 1e-12);
  EXPECT_NEAR(mean_kl(t, s, 4, 2.0), 0.08835269937368938, 1e-12);
  EXPECT_NEAR(mean_kl(t, s, 4, 4.0), 0.022873804735666886, 1e-12);
}

TEST(MetricsDistillation, KlSaturatedAndErrors) {
  // A teacher probability that underflows contributes 0, not 0 * inf = NaN.
  const double kl = mean_kl(std::vector<float>{0.f, -2000.f}, std::vector<float>{0.f, 0.f}, 2);
  EXPECT_NEAR(kl, std::log(2.0), 1e-12);  // KL((1, 0) || (1/2, 1/2)) = ln 2
  EXPECT_THROW(mean_kl(std::vector<float>{0.f, NAN}, std::vector<float>{0.f, 0.f}, 2), Error);
  EXPECT_THROW(mean_kl(std::vector<float>{0.f, 1.f}, std::vector<float>{0.f, INFINITY}, 2), Error);
  EXPECT_THROW(mean_kl(std::vector<float>{0.f, 1.f}, std::vector<float>{0.f, 1.f}, 2, 0.0), Error);
}

TEST(MetricsDistillation, MultilabelAgreementAndBernoulliKl) {
  const std::vector<float> t = {2.0f, -1.0f, 0.0f, 5.0f};
  const std::vector<float> s = {1.0f, 1.0f, -0.5f, 3.0f};
  // Decisions (logit > 0): teacher {1, 0, 0, 1}, student {1, 1, 0, 1}.
  EXPECT_DOUBLE_EQ(multilabel_agreement(t, s, 2), 0.75);
  // PyTorch 1.13, float64: mean of p (log p - log q) + (1-p)(log(1-p) - log(1-q)),
  // p = sigmoid(t / T), q = sigmoid(s / T).
  EXPECT_NEAR(mean_bernoulli_kl(t, s, 2, 1.0), 0.14716600414233957, 1e-12);
  EXPECT_NEAR(mean_bernoulli_kl(t, s, 2, 2.0), 0.05081538004164964, 1e-12);
  EXPECT_NEAR(mean_bernoulli_kl(t, t, 2), 0.0, 1e-15);
  // Saturated logits: with logs taken through softplus, log q = -80 exactly
  // instead of log(1.8e-35 rounded in sigmoid), so KL ~ 1 * (0 - (-80)) = 80.
  EXPECT_NEAR(mean_bernoulli_kl(std::vector<float>{80.f}, std::vector<float>{-80.f}, 1), 80.0,
              1e-9);
}

}  // namespace
}  // namespace medtex::metrics
