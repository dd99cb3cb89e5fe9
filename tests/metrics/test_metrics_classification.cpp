// Classification metrics against hand-computed cases and scikit-learn.
// Values marked "scikit-learn 1.2.1" were computed at dev time with Debian's
// python3-sklearn 1.2.1 (sklearn.metrics) and are hard-coded here; the tests
// need no Python.
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/metrics/classification.h"

namespace medtex::metrics {
namespace {

// Every value below is a ratio of small integers computed in double; 1e-12
// only absorbs the last-bit difference between our order of operations and
// sklearn's.
constexpr double kTol = 1e-12;

TEST(MetricsArgmax, FirstMaximumWins) {
  const std::vector<float> s = {0.1f, 0.7f, 0.2f,  //
                                0.5f, 0.5f, 0.0f,  // tie -> lowest index
                                -1.f, -2.f, -0.5f};
  EXPECT_EQ(argmax_rows(s, 3), (std::vector<int>{1, 0, 2}));
  EXPECT_THROW(argmax_rows(std::vector<float>{1.f, 2.f, 3.f}, 2), Error);
  EXPECT_THROW(argmax_rows(std::vector<float>{1.f, NAN}, 2), Error);
}

TEST(MetricsAccuracy, CountsMatches) {
  EXPECT_DOUBLE_EQ(accuracy(std::vector<int>{0, 1, 2, 2}, std::vector<int>{0, 1, 1, 2}), 0.75);
  EXPECT_DOUBLE_EQ(accuracy(std::vector<int>{3}, std::vector<int>{3}), 1.0);
  EXPECT_THROW(accuracy(std::vector<int>{0, 1}, std::vector<int>{0}), Error);
  EXPECT_THROW(accuracy(std::vector<int>{}, std::vector<int>{}), Error);
}

TEST(MetricsConfusion, RowsAreTrueClass) {
  const ConfusionMatrix cm =
      confusion_matrix(std::vector<int>{0, 1, 1, 2}, std::vector<int>{0, 0, 1, 1}, 3);
  // true 0: predicted 0 once, 1 once; true 1: predicted 1 once, 2 once.
  EXPECT_EQ(cm.counts, (std::vector<int64_t>{1, 1, 0, 0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(cm.at(1, 2), 1);
  EXPECT_EQ(cm.total(), 4);
  EXPECT_THROW(confusion_matrix(std::vector<int>{0, 3}, std::vector<int>{0, 1}, 3), Error);
  EXPECT_THROW(confusion_matrix(std::vector<int>{0, 1}, std::vector<int>{-1, 1}, 3), Error);
}

TEST(MetricsF1, ClassNeverPredicted) {
  const std::vector<int> y = {0, 0, 1, 1, 2, 2};
  const std::vector<int> p = {0, 0, 1, 0, 1, 1};
  // By hand: class 0 TP 2 FP 1 FN 0 -> 4/5; class 1 TP 1 FP 2 FN 1 -> 2/5;
  // class 2 never predicted, TP 0 -> 0. sklearn 1.2.1 f1_score(average=None,
  // zero_division=0): [0.8, 0.4, 0.0]; macro 0.4000000000000001.
  const std::vector<double> f1 = f1_per_class(p, y, 3);
  ASSERT_EQ(f1.size(), 3u);
  EXPECT_NEAR(f1[0], 0.8, kTol);
  EXPECT_NEAR(f1[1], 0.4, kTol);
  EXPECT_EQ(f1[2], 0.0);
  EXPECT_NEAR(macro_f1(p, y, 3), 0.4000000000000001, kTol);
  // A 4th class, neither present nor predicted, enters the macro mean as 0
  // (sklearn 1.2.1 with labels=[0,1,2,3], zero_division=0: 0.30000000000000004).
  EXPECT_NEAR(macro_f1(p, y, 4), 0.30000000000000004, kTol);
  EXPECT_EQ(f1_per_class(p, y, 4)[3], 0.0);
}

TEST(MetricsF1, ClassPredictedButAbsent) {
  // sklearn 1.2.1, labels=[0,1,2], zero_division=0: [0.6667, 1.0, 0.0].
  const std::vector<double> f1 =
      f1_per_class(std::vector<int>{0, 2, 1, 1}, std::vector<int>{0, 0, 1, 1}, 3);
  EXPECT_NEAR(f1[0], 2.0 / 3.0, kTol);
  EXPECT_NEAR(f1[1], 1.0, kTol);
  EXPECT_EQ(f1[2], 0.0);
  EXPECT_DOUBLE_EQ(macro_f1(std::vector<int>{0, 1, 2}, std::vector<int>{0, 1, 2}, 3), 1.0);
}

TEST(MetricsAuc, SklearnDocExample) {
  // sklearn's roc_auc_score documentation example: 0.75. By hand: of the 4
  // (positive, negative) pairs, only (0.35, 0.4) is ordered wrongly.
  EXPECT_NEAR(roc_auc(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, std::vector<int>{0, 0, 1, 1}),
              0.75, kTol);
}

TEST(MetricsAuc, TiesCountHalf) {
  // Positives {0.5, 0.9, 0.5}, negatives {0.2, 0.5, 0.1}: each 0.5 positive
  // beats two negatives and ties one (2.5), 0.9 beats all three:
  // (2.5 + 3 + 2.5) / 9 = 8/9. sklearn 1.2.1: 0.888888888888889.
  const std::vector<float> s = {0.2f, 0.5f, 0.5f, 0.9f, 0.5f, 0.1f};
  const std::vector<int> y = {0, 1, 0, 1, 1, 0};
  EXPECT_NEAR(roc_auc(s, y), 8.0 / 9.0, kTol);
  // All scores tied: every pair is 1/2.
  EXPECT_DOUBLE_EQ(
      roc_auc(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, std::vector<int>{0, 1, 0, 1}), 0.5);
}

TEST(MetricsAuc, PerfectInvertedUndefined) {
  const std::vector<float> s = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  EXPECT_DOUBLE_EQ(roc_auc(s, std::vector<int>{0, 0, 1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(s, std::vector<int>{1, 1, 1, 0, 0}), 0.0);
  EXPECT_TRUE(std::isnan(roc_auc(s, std::vector<int>{1, 1, 1, 1, 1})));
  EXPECT_TRUE(std::isnan(roc_auc(s, std::vector<int>{0, 0, 0, 0, 0})));
  EXPECT_THROW(roc_auc(s, std::vector<int>{0, 2, 1, 1, 0}), Error);  // not binary
  EXPECT_THROW(roc_auc(std::vector<float>{0.1f, NAN}, std::vector<int>{0, 1}), Error);
  EXPECT_THROW(roc_auc(s, std::vector<int>{0, 1}), Error);
}

TEST(MetricsAuc, OrderOfSamplesDoesNotMatter) {
  // The same multiset of (score, label) pairs in another order, with ties
  // straddling the classes: the sort must not break ties by position.
  const std::vector<float> s = {0.5f, 0.1f, 0.5f, 0.5f, 0.9f, 0.2f};
  const std::vector<int> y = {1, 0, 0, 1, 1, 0};
  EXPECT_NEAR(roc_auc(s, y), 8.0 / 9.0, kTol);
}

TEST(MetricsAuc, MatchesPairCountingOnRandomTiedScores) {
  // An independent O(N^2) count of the definition on 301 samples whose
  // scores take only 7 values, so most pairs tie: the sort-and-group
  // implementation must agree exactly (both are ratios of the same integers).
  std::vector<float> s;
  std::vector<int> y;
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;  // Numerical Recipes' LCG: any fixed stream will do
    return state >> 8;
  };
  for (int i = 0; i < 301; ++i) {
    const int label = int(next() % 3 == 0);
    y.push_back(label);
    s.push_back(float(int(next() % 5) + 2 * label) * 0.125f);  // positives shifted up
  }
  int64_t twice_u = 0, pos = 0, neg = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (y[i] != 1) continue;
    ++pos;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j] != 0) continue;
      twice_u += s[i] > s[j] ? 2 : s[i] == s[j] ? 1 : 0;
    }
  }
  for (int v : y) neg += v == 0;
  const double expected = double(twice_u) / (2.0 * double(pos) * double(neg));
  EXPECT_GT(expected, 0.6);  // the case is not degenerate
  EXPECT_LT(expected, 0.95);
  EXPECT_DOUBLE_EQ(roc_auc(s, y), expected);
}

TEST(MetricsAuc, OneVsRestMatchesSklearn) {
  const std::vector<float> s = {0.7f, 0.2f, 0.1f, 0.3f, 0.4f, 0.3f, 0.2f, 0.2f, 0.6f, 0.5f, 0.3f,
                                0.2f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.4f, 0.4f, 0.4f, 0.2f};
  const std::vector<int> y = {0, 1, 2, 1, 1, 2, 0};
  // sklearn 1.2.1: per class roc_auc_score(y == c, s[:, c]) = [0.9,
  // 0.8333333333333333, 1.0]; roc_auc_score(y, s, multi_class='ovr',
  // average='macro') = 0.9111111111111111.
  const std::vector<double> auc = roc_auc_ovr(s, y, 3);
  ASSERT_EQ(auc.size(), 3u);
  EXPECT_NEAR(auc[0], 0.9, kTol);
  EXPECT_NEAR(auc[1], 0.8333333333333333, kTol);
  EXPECT_NEAR(auc[2], 1.0, kTol);
  EXPECT_NEAR(macro_roc_auc_ovr(s, y, 3), 0.9111111111111111, kTol);
  EXPECT_THROW(roc_auc_ovr(s, std::vector<int>{0, 1, 2}, 3), Error);  // 7 rows, 3 labels
}

TEST(MetricsAuc, AbsentClassIsNaNAndSkipped) {
  // Four classes, class 3 never in the labels (sklearn raises "Only one
  // class present in y_true"). The present classes, sklearn 1.2.1:
  // [0.875, 1.0, 1.0], mean 0.9583333333333334.
  const std::vector<float> s = {0.6f, 0.2f, 0.1f, 0.1f, 0.2f,  0.5f,  0.2f,  0.1f,
                                0.1f, 0.2f, 0.3f, 0.4f, 0.25f, 0.25f, 0.25f, 0.25f,
                                0.1f, 0.6f, 0.2f, 0.1f, 0.3f,  0.1f,  0.5f,  0.1f};
  const std::vector<int> y = {0, 1, 2, 0, 1, 2};
  const std::vector<double> auc = roc_auc_ovr(s, y, 4);
  EXPECT_NEAR(auc[0], 0.875, kTol);
  EXPECT_NEAR(auc[1], 1.0, kTol);
  EXPECT_NEAR(auc[2], 1.0, kTol);
  EXPECT_TRUE(std::isnan(auc[3]));
  EXPECT_NEAR(macro_roc_auc_ovr(s, y, 4), 0.9583333333333334, kTol);
  EXPECT_TRUE(std::isnan(mean_defined(std::vector<double>{NAN, NAN})));
}

TEST(MetricsKappa, PerfectAgreementIsOne) {
  const std::vector<int> y = {0, 1, 2, 3, 4, 2, 1};
  EXPECT_DOUBLE_EQ(quadratic_weighted_kappa(y, y, 5), 1.0);
}

TEST(MetricsKappa, WikipediaWorkedExample) {
  // The worked example of Wikipedia's "Cohen's kappa" article: 50 grant
  // applications, both readers yes 20, A yes / B no 5, A no / B yes 10, both
  // no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4. With two classes (i - j)^2 is
  // 0 or 1, so quadratic weighting is plain kappa. sklearn 1.2.1: 0.4.
  ConfusionMatrix cm;
  cm.num_classes = 2;
  cm.counts = {15, 10, 5, 20};  // rows: A's answer (0 = no), columns: B's
  EXPECT_NEAR(quadratic_weighted_kappa(cm), 0.4, kTol);
}

TEST(MetricsKappa, ThreeClassTableByHand) {
  // O = [[2,1,0],[0,2,1],[1,1,2]], N = 10, rows (3,3,4), columns (3,4,3).
  // sum w O = 1 + 1 + 4*1 + 1 = 7; N sum w E = sum w_ij r_i c_j
  // = 3(4 + 4*3) + 3(3 + 3) + 4(4*3 + 4) = 130, so sum w E = 13 and
  // kappa = 1 - 7/13 = 6/13. sklearn 1.2.1: 0.46153846153846156.
  const std::vector<int> rater1 = {0, 0, 0, 1, 1, 2, 2, 2, 2, 1};
  const std::vector<int> rater2 = {0, 1, 0, 1, 2, 2, 2, 1, 0, 1};
  EXPECT_NEAR(quadratic_weighted_kappa(rater2, rater1, 3), 6.0 / 13.0, kTol);
  // Quadratic kappa is symmetric in the two raters.
  EXPECT_NEAR(quadratic_weighted_kappa(rater1, rater2, 3), 6.0 / 13.0, kTol);
}

TEST(MetricsKappa, FiveGradesMatchSklearn) {
  const std::vector<int> y1 = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 2, 2, 1, 0, 4, 3};
  const std::vector<int> y2 = {0, 2, 2, 3, 3, 1, 1, 1, 4, 4, 2, 0, 1, 0, 4, 2};
  // sklearn 1.2.1 cohen_kappa_score(weights='quadratic', labels=range(5)).
  EXPECT_NEAR(quadratic_weighted_kappa(y2, y1, 5), 0.8333333333333334, kTol);
}

TEST(MetricsKappa, WeightsUseGradeValues) {
  // Grades 2 and 3 never occur. We weight by (i - j)^2 on grade values:
  // sklearn 1.2.1 with labels=range(5) gives 0.631578947368421, while its
  // default (weights by index among the labels present) gives 0.5714...
  const std::vector<int> y1 = {0, 0, 1, 1, 4, 4, 1};
  const std::vector<int> y2 = {0, 1, 1, 1, 4, 1, 0};
  EXPECT_NEAR(quadratic_weighted_kappa(y2, y1, 5), 0.631578947368421, kTol);
}

TEST(MetricsKappa, ChanceLevelInverseAndUndefined) {
  // O = [[1,1],[1,1]] equals E exactly: kappa 0 (sklearn 1.2.1: 0.0).
  EXPECT_NEAR(
      quadratic_weighted_kappa(std::vector<int>{0, 1, 0, 1}, std::vector<int>{0, 0, 1, 1}, 2), 0.0,
      kTol);
  // Complete disagreement on two balanced classes: 1 - 2/1 = -1 (sklearn: -1.0).
  EXPECT_NEAR(quadratic_weighted_kappa(std::vector<int>{1, 0}, std::vector<int>{0, 1}, 2), -1.0,
              kTol);
  // One class only: sum w E = 0, kappa 0/0 (sklearn 1.2.1: nan).
  EXPECT_TRUE(std::isnan(
      quadratic_weighted_kappa(std::vector<int>{1, 1, 1}, std::vector<int>{1, 1, 1}, 3)));
  EXPECT_THROW(quadratic_weighted_kappa(std::vector<int>{}, std::vector<int>{}, 3), Error);
}

}  // namespace
}  // namespace medtex::metrics
