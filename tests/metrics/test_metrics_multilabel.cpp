// Multi-label AUC against hand-computed cases and scikit-learn 1.2.1
// (Debian python3-sklearn, run at dev time; the values are hard-coded).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/metrics/multilabel.h"

namespace medtex::metrics {
namespace {

constexpr double kTol = 1e-12;  // ratios of small integers; last-bit slack only

// 5 samples x 3 labels; label 2 is never positive, so its AUC is undefined.
const std::vector<float> kScores = {2.0f,  -1.0f, 0.3f,  -0.5f, 0.2f, 0.1f, 0.5f, 0.2f,
                                    -2.0f, 0.5f,  -3.0f, 0.0f,  1.0f, 0.4f, 0.9f};
const std::vector<float> kTargets = {1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0};

TEST(MetricsMultilabel, PerLabelWithUndefinedLabel) {
  // Label 0: positives {2.0, 0.5, 1.0}, negatives {-0.5, 0.5}: pairs won
  // 2 + 1.5 + 2 = 5.5 of 6 -> 0.9166... Label 1: positives {0.2, 0.2},
  // negatives {-1, -3, 0.4}: 2 + 2 of 6 -> 2/3. sklearn 1.2.1:
  // [0.9166666666666666, 0.6666666666666667], mean 0.7916666666666667.
  const std::vector<double> auc = roc_auc_per_label(kScores, kTargets, 3);
  ASSERT_EQ(auc.size(), 3u);
  EXPECT_NEAR(auc[0], 11.0 / 12.0, kTol);
  EXPECT_NEAR(auc[1], 2.0 / 3.0, kTol);
  EXPECT_TRUE(std::isnan(auc[2]));
  EXPECT_NEAR(mean_roc_auc(kScores, kTargets, 3), 0.7916666666666667, kTol);
}

TEST(MetricsMultilabel, IntTargetsAndSigmoidInvariance) {
  std::vector<int> targets(kTargets.begin(), kTargets.end());
  std::vector<float> probs(kScores.size());
  for (size_t i = 0; i < probs.size(); ++i) probs[i] = 1.0f / (1.0f + std::exp(-kScores[i]));
  // Logits or probabilities: the sigmoid keeps each column's ranking.
  EXPECT_NEAR(mean_roc_auc(probs, targets, 3), 0.7916666666666667, kTol);
}

TEST(MetricsMultilabel, PerfectAndErrors) {
  const std::vector<float> s = {0.9f, 0.1f, 0.2f, 0.8f, 0.7f, 0.3f};
  const std::vector<float> t = {1, 0, 0, 1, 1, 0};
  EXPECT_DOUBLE_EQ(mean_roc_auc(s, t, 2), 1.0);
  const std::vector<float> flipped = {0, 1, 1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(mean_roc_auc(s, flipped, 2), 0.0);
  EXPECT_THROW(roc_auc_per_label(s, std::vector<float>{1, 0, 0, 1, 0.5f, 0}, 2), Error);
  EXPECT_THROW(roc_auc_per_label(s, t, 4), Error);  // 6 values are not rows of 4
  EXPECT_THROW(roc_auc_per_label(s, std::vector<float>{1, 0}, 2), Error);
  EXPECT_TRUE(std::isnan(mean_roc_auc(std::vector<float>{0.1f, 0.2f}, std::vector<int>{1, 1}, 1)));
}

}  // namespace
}  // namespace medtex::metrics
