#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/explain/evaluate.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

constexpr int kSize = 16, kPatch = 4, kGrid = 4, kD = 16;
constexpr int kKey = 5;  // the patch at grid row 1, column 1: pixels 4..7 x 4..7

// A teacher whose decision depends on one patch only: with m the mean of
// channel 0 over patch kKey, logits = (10 (m - 0.25), 0).
class OnePatchTeacher : public nn::Module {
 public:
  OnePatchTeacher() {
    std::vector<float> sel(size_t(3 * kSize * kSize), 0.0f);
    for (int r = 4; r < 8; ++r) {
      for (int c = 4; c < 8; ++c) sel[size_t(r * kSize + c)] = 1.0f / 16.0f;
    }
    selector_ = Tensor::from_vector(sel, {1, 3, kSize, kSize});
    w_ = Tensor::from_vector(std::vector<float>{10.0f, 0.0f}, {2, 1});
    b_ = Tensor::from_vector(std::vector<float>{-2.5f, 0.0f}, {2});
  }
  Tensor forward(const Tensor& x) override {
    const Tensor m = ops::sum(ops::mul(x, selector_), {1, 2, 3});
    return ops::linear(ops::reshape(m, {x.size(0), 1}), w_, b_);
  }

 private:
  Tensor selector_, w_, b_;
};

// Always predicts class 1.
class ConstantNet : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    std::vector<float> v;
    for (int64_t i = 0; i < x.size(0); ++i) v.insert(v.end(), {0.0f, 1.0f});
    return Tensor::from_vector(v, {x.size(0), 2});
  }
};

double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

struct Case {
  int n = 7;
  Tensor images, masks, right, wrong;
  std::vector<double> p_full;  // the teacher's probability of class 0 on each full image
  Case() {
    images = test::random_float({n, 3, kSize, kSize}, 1, 0.5, 1.0);  // m >= 0.5: class 0
    const auto x = images.to_vector<float>();
    for (int i = 0; i < n; ++i) {
      double m = 0;
      for (int r = 4; r < 8; ++r) {
        for (int c = 4; c < 8; ++c) m += x[size_t(i * 3 * kSize * kSize + r * kSize + c)];
      }
      p_full.push_back(sigmoid(10.0 * (m / 16.0 - 0.25)));
    }
    // Lesions in patches 5 and 10 (grid (2, 2)) of every image but the last.
    std::vector<float> mk(size_t(n * kSize * kSize), 0.0f);
    for (int i = 0; i + 1 < n; ++i) {
      mk[size_t(i * kSize * kSize + 5 * kSize + 5)] = 1.0f;
      mk[size_t(i * kSize * kSize + 9 * kSize + 9)] = 0.3f;
    }
    masks = Tensor::from_vector(mk, {n, 1, kSize, kSize});
    // Right: the key patch first, then patch 0, then patch 10, then the rest.
    // Wrong: the same with the key patch last.
    std::vector<float> r, w;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < kD; ++j) {
        const float rest = 0.1f + 0.01f * float((j * 7 + i) % kD);
        const float base = j == 0 ? 0.9f : j == 10 ? 0.8f : rest;
        r.push_back(j == kKey ? 1.0f : base);
        w.push_back(j == kKey ? -1.0f : base);
      }
    }
    right = Tensor::from_vector(r, {n, kD});
    wrong = Tensor::from_vector(w, {n, kD});
  }
};

TEST(EvaluateExplanations, RightExplanationOfAOnePatchTeacher) {
  Case c;
  OnePatchTeacher teacher;
  explain::EvaluateOptions opt;
  opt.k = 2;
  const auto right =
      explain::evaluate_explanations(teacher, &teacher, c.images, c.masks, c.right, opt);
  const auto wrong =
      explain::evaluate_explanations(teacher, &teacher, c.images, c.masks, c.wrong, opt);

  EXPECT_EQ(right.images, 7);
  EXPECT_EQ(right.patches, kD);
  EXPECT_EQ(right.steps, 16);
  EXPECT_EQ(right.post_hoc_accuracy, 1.0);
  EXPECT_EQ(wrong.post_hoc_accuracy, 0.0);  // the key patch is blanked: m = 0, class 1
  // The student is the teacher itself here: fidelity is post-hoc accuracy.
  EXPECT_TRUE(right.has_student);
  EXPECT_EQ(right.student_fidelity, 1.0);
  EXPECT_EQ(wrong.student_fidelity, 0.0);

  // Deletion: removing the key patch drops the probability of class 0 to
  // q = sigmoid(-2.5) at once (right) or only at the last step (wrong).
  // Trapezoids over 16 equal steps:
  //   right deletion  ((p + q) / 2 + 15 q) / 16,  wrong deletion  (15 p + (p + q) / 2) / 16
  //   right insertion ((q + p) / 2 + 15 p) / 16,  wrong insertion (15 q + (q + p) / 2) / 16
  const double q = sigmoid(-2.5);
  double rd = 0, wd = 0, ri = 0, wi = 0;
  for (double p : c.p_full) {
    rd += ((p + q) / 2 + 15 * q) / 16 / 7;
    wd += (15 * p + (p + q) / 2) / 16 / 7;
    ri += ((q + p) / 2 + 15 * p) / 16 / 7;
    wi += (15 * q + (q + p) / 2) / 16 / 7;
  }
  // float32 teacher on values ~1: 1e-6.
  EXPECT_NEAR(right.deletion_auc, rd, 1e-6);
  EXPECT_NEAR(wrong.deletion_auc, wd, 1e-6);
  EXPECT_NEAR(right.insertion_auc, ri, 1e-6);
  EXPECT_NEAR(wrong.insertion_auc, wi, 1e-6);
  EXPECT_LT(right.deletion_auc, wrong.deletion_auc - 0.5);
  EXPECT_GT(right.insertion_auc, wrong.insertion_auc + 0.5);
  // The mean curves: 17 points at 0, 1/16, ..., 1.
  ASSERT_EQ(right.curve_fraction.size(), 17u);
  EXPECT_EQ(right.curve_fraction[1], 1.0 / 16);
  double mean_p = 0;
  for (double p : c.p_full) mean_p += p / 7;
  EXPECT_NEAR(right.deletion_curve[0], mean_p, 1e-6);
  EXPECT_NEAR(right.deletion_curve[1], q, 1e-6);
  EXPECT_NEAR(wrong.deletion_curve[15], mean_p, 1e-6);
  EXPECT_NEAR(right.insertion_curve[0], q, 1e-6);
  EXPECT_NEAR(right.insertion_curve[1], mean_p, 1e-6);

  // Lesions in patches 5 and 10 of six images; the seventh has none.
  // k = 2: right selects {5, 0}, wrong {0, 10}: precision 1/2 both; the
  // pointing game: right's top patch is 5 (hit), wrong's is 0 (miss).
  EXPECT_TRUE(right.has_masks);
  EXPECT_EQ(right.lesion_precision.evaluated, 6);
  EXPECT_EQ(right.lesion_precision.excluded, 1);
  EXPECT_DOUBLE_EQ(right.lesion_precision.value(), 0.5);
  EXPECT_DOUBLE_EQ(wrong.lesion_precision.value(), 0.5);
  EXPECT_DOUBLE_EQ(right.pointing_game.value(), 1.0);
  EXPECT_DOUBLE_EQ(wrong.pointing_game.value(), 0.0);
  EXPECT_EQ(right.pointing_game.excluded, 1);
  // k = 3: right selects {5, 0, 10}: 2 of 3.
  opt.k = 3;
  const auto three =
      explain::evaluate_explanations(teacher, nullptr, c.images, c.masks, c.right, opt);
  EXPECT_NEAR(three.lesion_precision.value(), 2.0 / 3.0, 1e-12);
  EXPECT_FALSE(three.has_student);
  EXPECT_TRUE(std::isnan(three.student_fidelity));
}

TEST(EvaluateExplanations, StudentFidelityBatchingAndNoMasks) {
  Case c;
  OnePatchTeacher teacher;
  ConstantNet always_one;
  explain::EvaluateOptions opt;
  opt.k = 2;
  opt.batch_size = 64;
  const auto all =
      explain::evaluate_explanations(teacher, &always_one, c.images, Tensor(), c.right, opt);
  EXPECT_EQ(all.student_fidelity, 0.0);  // the teacher says class 0 everywhere
  EXPECT_FALSE(all.has_masks);
  EXPECT_EQ(all.lesion_precision.evaluated, 0);
  opt.batch_size = 3;  // 3 + 3 + 1
  const auto batched =
      explain::evaluate_explanations(teacher, &always_one, c.images, Tensor(), c.right, opt);
  EXPECT_EQ(batched.post_hoc_accuracy, all.post_hoc_accuracy);
  EXPECT_NEAR(batched.deletion_auc, all.deletion_auc, 1e-12);
  EXPECT_NEAR(batched.insertion_auc, all.insertion_auc, 1e-12);
  for (size_t i = 0; i < all.deletion_curve.size(); ++i) {
    EXPECT_NEAR(batched.deletion_curve[i], all.deletion_curve[i], 1e-12);
  }
  // Nets run in eval mode and get their mode back.
  EXPECT_TRUE(teacher.is_training());
  EXPECT_TRUE(always_one.is_training());
}

TEST(EvaluateExplanations, FewerPatchesThanStepsAndBadInput) {
  Case c;
  OnePatchTeacher teacher;
  // 8x8 patches: a 2x2 grid, d = 4; the key pixels 4..7 lie in patch 0.
  const Tensor s = Tensor::from_vector(std::vector<float>(size_t(c.n * 4), 0.5f), {c.n, 4});
  explain::EvaluateOptions opt;
  opt.k = 1;
  const auto r = explain::evaluate_explanations(teacher, nullptr, c.images, c.masks, s, opt);
  EXPECT_EQ(r.steps, 4);  // clamped to d
  EXPECT_EQ(r.curve_fraction, (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(r.post_hoc_accuracy, 1.0);  // equal scores: patch 0 first, the key patch

  EXPECT_THROW(explain::evaluate_explanations(teacher, nullptr, c.images, Tensor(),
                                              Tensor::zeros({c.n, 15}), opt),
               Error);  // 15 patches tile no 16x16 image
  EXPECT_THROW(explain::evaluate_explanations(teacher, nullptr, c.images, Tensor(),
                                              Tensor::zeros({c.n - 1, 16}), opt),
               Error);
  opt.k = 5;
  EXPECT_THROW(explain::evaluate_explanations(teacher, nullptr, c.images, Tensor(), s, opt), Error);
  opt.k = 1;
  EXPECT_THROW(explain::evaluate_explanations(teacher, nullptr, c.images,
                                              Tensor::zeros({c.n - 1, 16, 16}), c.right, opt),
               Error);
  opt.steps = 0;
  EXPECT_THROW(explain::evaluate_explanations(teacher, nullptr, c.images, Tensor(), c.right, opt),
               Error);
}

// The student sees x~ in its own normalisation: here its images are the
// teacher's minus 1, so with the key patch kept it says class 1 where the
// teacher says 0 (fidelity 0); handed the teacher's images it would agree.
TEST(EvaluateExplanations, StudentFidelityUsesTheStudentsImages) {
  Case c;
  OnePatchTeacher teacher, student;
  explain::EvaluateOptions opt;
  opt.k = 2;
  opt.steps = 2;
  const auto same = explain::evaluate_explanations(teacher, &student, c.images, c.masks, c.right, opt);
  EXPECT_EQ(same.student_fidelity, 1.0);
  opt.student_images = ops::add_scalar(c.images, -1.0);
  const auto own = explain::evaluate_explanations(teacher, &student, c.images, c.masks, c.right, opt);
  EXPECT_EQ(own.student_fidelity, 0.0);
  EXPECT_EQ(own.post_hoc_accuracy, same.post_hoc_accuracy);  // the teacher's view is unchanged
  opt.student_images = Tensor::zeros({c.n, 3, kSize, kSize / 2});
  EXPECT_THROW(explain::evaluate_explanations(teacher, &student, c.images, c.masks, c.right, opt),
               Error);
}

// A student with BatchNorm: by default it normalises x~ with the masked
// batch's own statistics (as in training), optionally with its running
// ones; here the running ones are made wrong on purpose and the two give
// opposite calls; the running statistics stay as they were, and the
// student's mode is restored.
TEST(EvaluateExplanations, StudentBatchStatisticsOnMaskedImages) {
  Case c;
  OnePatchTeacher teacher;
  auto bn = std::make_shared<nn::BatchNorm2d>(3);
  nn::Sequential student{bn, std::make_shared<OnePatchTeacher>()};
  student.eval();
  // Running statistics far from any batch: channel 0 centred at 10, so with
  // them the key patch reads negative (class 1, against the teacher's 0).
  bn->running_mean.fill_(10.0);
  explain::EvaluateOptions opt;
  opt.k = 2;
  opt.steps = 2;
  const auto mean0 = bn->running_mean.copy(), var0 = bn->running_var.copy();
  opt.student_batch_statistics = false;
  const auto running =
      explain::evaluate_explanations(teacher, &student, c.images, c.masks, c.right, opt);
  EXPECT_EQ(running.student_fidelity, 0.0);
  opt.student_batch_statistics = true;  // the masked batch's own statistics: the key patch stands out
  const auto batch =
      explain::evaluate_explanations(teacher, &student, c.images, c.masks, c.right, opt);
  EXPECT_EQ(batch.student_fidelity, 1.0);
  EXPECT_TRUE(test::bitwise_equal(bn->running_mean, mean0));
  EXPECT_TRUE(test::bitwise_equal(bn->running_var, var0));
  EXPECT_FALSE(student.is_training());
}

// Lesion reliance: with the lesion on the key patch, keeping only the lesion
// patches keeps the teacher's call on every image with lesions and removing
// them changes it on every one; with the lesion elsewhere, the reverse. The
// image without lesions is excluded and counted.
TEST(EvaluateExplanations, LesionReliance) {
  Case c;
  OnePatchTeacher teacher;
  const auto on_key = explain::lesion_reliance(teacher, c.images, c.masks, kPatch);
  EXPECT_EQ(on_key.kept.evaluated, c.n - 1);
  EXPECT_EQ(on_key.kept.excluded, 1);
  EXPECT_EQ(on_key.removed.excluded, 1);
  EXPECT_EQ(on_key.kept.value(), 1.0);
  EXPECT_EQ(on_key.removed.value(), 0.0);
  std::vector<float> mk(size_t(c.n * kSize * kSize), 0.0f);
  for (int i = 0; i < c.n; ++i) mk[size_t(i * kSize * kSize + 13 * kSize + 2)] = 1.0f;  // patch 12
  const Tensor elsewhere = Tensor::from_vector(mk, {c.n, kSize, kSize});
  const auto off_key = explain::lesion_reliance(teacher, c.images, elsewhere, kPatch, 0.0, 3);
  EXPECT_EQ(off_key.kept.evaluated, c.n);
  EXPECT_EQ(off_key.kept.value(), 0.0);
  EXPECT_EQ(off_key.removed.value(), 1.0);
  EXPECT_THROW(explain::lesion_reliance(teacher, c.images, Tensor::zeros({2, kSize, kSize}), kPatch),
               Error);
  EXPECT_THROW(explain::lesion_reliance(teacher, c.images, c.masks, 5), Error);
}

}  // namespace
}  // namespace medtex
