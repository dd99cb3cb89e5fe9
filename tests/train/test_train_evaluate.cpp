// Evaluation: the metrics gathered from logits match hand-computed values
// (accuracy, per-class F1, quadratic kappa, agreement with a teacher), the
// multi-label AUC counts only known entries, NaN goes to JSON as null, and
// evaluate() runs the net in eval mode on images normalised with its config.
#include <cmath>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/common/error.h"
#include "medtex/train/evaluate.h"
#include "tests/train/train_test_util.h"

namespace medtex {
namespace {

data::ImageSet labels_only(const std::vector<int64_t>& labels, int classes) {
  data::ImageSet set;
  set.size = 8;
  for (int c = 0; c < classes; ++c) set.classes.push_back(std::to_string(c));
  set.labels = labels;
  for (size_t i = 0; i < labels.size(); ++i) set.sample.push_back(int64_t(i));
  return set;
}

TEST(Evaluate, SingleLabelAgainstHandComputedValues) {
  const data::ImageSet set = labels_only({0, 1, 2, 2}, 3);
  // Predictions 0, 1, 1, 2: one grade-2 image called grade 1.
  const Tensor logits =
      Tensor::from_vector(std::vector<float>{3, 0, 0, 0, 2, 1, 0, 2, 1, 0, 1, 4}, {4, 3});
  const Tensor teacher =
      Tensor::from_vector(std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1}, {4, 3});
  const train::EvalResult r = train::evaluate_logits(logits, train::all_rows(set), teacher);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
  // F1: class 0: 1; class 1: TP 1, FP 1 -> 2/3; class 2: TP 1, FN 1 -> 2/3.
  ASSERT_EQ(r.per_class_f1.size(), 3u);
  EXPECT_DOUBLE_EQ(r.per_class_f1[0], 1.0);
  EXPECT_NEAR(r.per_class_f1[1], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.macro_f1, (1.0 + 4.0 / 3.0) / 3.0, 1e-12);
  // Quadratic kappa: sum w O = 1 (one error one grade away), sum w E = 5
  // (row totals 1, 1, 2; column totals 1, 2, 1; N = 4) -> 1 - 1/5.
  EXPECT_NEAR(r.kappa, 0.8, 1e-12);
  EXPECT_EQ(r.confusion.at(2, 1), 1);
  EXPECT_EQ(r.class_counts, (std::vector<int64_t>{1, 1, 2}));
  // Cross-entropy from the logits, in double.
  double ce = 0.0;
  const std::vector<float> z = logits.to_vector<float>();
  const int y[4] = {0, 1, 2, 2};
  for (int i = 0; i < 4; ++i) {
    double s = 0.0;
    for (int c = 0; c < 3; ++c) s += std::exp(double(z[size_t(i * 3 + c)]));
    ce += std::log(s) - double(z[size_t(i * 3 + y[i])]);
  }
  EXPECT_NEAR(r.loss, ce / 4.0, 1e-12);
  EXPECT_TRUE(r.has_teacher);
  EXPECT_DOUBLE_EQ(r.teacher_agreement, 0.75);
  EXPECT_DOUBLE_EQ(r.teacher_accuracy, 1.0);
  EXPECT_GT(r.teacher_kl, 0.0);
  // Class 0's probability ranks its one positive first: AUC 1.
  EXPECT_DOUBLE_EQ(r.per_class_auc[0], 1.0);
  EXPECT_DOUBLE_EQ(r.score(), r.accuracy);
}

TEST(Evaluate, UndefinedAucIsNullInJson) {
  const data::ImageSet set = labels_only({0, 0, 1}, 3);  // class 2 absent
  const Tensor logits = Tensor::from_vector(std::vector<float>{1, 0, 0, 1, 0, 0, 0, 1, 0}, {3, 3});
  const train::EvalResult r = train::evaluate_logits(logits, train::all_rows(set));
  EXPECT_TRUE(std::isnan(r.per_class_auc[2]));
  EXPECT_FALSE(std::isnan(r.macro_auc));  // the mean of the defined ones
  const nlohmann::json j = train::to_json(r);
  EXPECT_TRUE(j["per_class_auc"][2].is_null());
  EXPECT_FALSE(j.contains("teacher"));
  EXPECT_EQ(j["confusion"][0][0], 2);
}

TEST(Evaluate, MultiLabelAucUsesKnownEntriesOnly) {
  data::ImageSet set;
  set.size = 8;
  set.multi_label = true;
  set.classes = {"a", "b"};
  set.sample = {0, 1, 2};
  set.targets = Tensor::from_vector(std::vector<float>{1, 0, 0, 1, 1, 1}, {3, 2});
  set.known = Tensor::from_vector(std::vector<float>{1, 1, 1, 1, 1, 0}, {3, 2});
  // Label b: known scores 1 (negative), 2 (positive): AUC 1. Counting the
  // blank entry (score -3, target 1) would give 0.5.
  const Tensor logits = Tensor::from_vector(std::vector<float>{2, 1, -1, 2, 0.5f, -3}, {3, 2});
  const train::EvalResult r = train::evaluate_logits(logits, train::all_rows(set), logits);
  ASSERT_EQ(r.per_label_auc.size(), 2u);
  EXPECT_DOUBLE_EQ(r.per_label_auc[0], 1.0);
  EXPECT_DOUBLE_EQ(r.per_label_auc[1], 1.0);
  EXPECT_DOUBLE_EQ(r.mean_auc, 1.0);
  // 5 known decisions (logit > 0); image 0's label b (logit 1, target 0) is wrong.
  EXPECT_DOUBLE_EQ(r.label_accuracy, 0.8);
  EXPECT_DOUBLE_EQ(r.teacher_agreement, 1.0);
  EXPECT_DOUBLE_EQ(r.score(), r.mean_auc);
}

TEST(Evaluate, RunsTheNetInEvalModeOnNormalisedImages) {
  const data::ImageSet set = test::synth_set(10, 32);
  models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  cfg.norm_mean = {0.3, 0.2, 0.1};
  cfg.norm_std = {0.2, 0.1, 0.05};
  Generator init(2);
  auto net = models::make_model(cfg, init);
  net->train();
  train::EvalOptions o;
  o.batch_size = 4;  // three batches, the last of two
  const train::EvalResult r = train::evaluate(*net, cfg, train::all_rows(set), nullptr, nullptr, o);
  EXPECT_TRUE(net->is_training());  // mode restored
  // By hand: normalise, eval mode, one forward over all ten.
  Tensor x = Tensor::empty({10, 3, 32, 32});
  const float* src = set.images.data<float>();
  float* dst = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = (i / (32 * 32)) % 3;
    dst[i] = (src[i] - float(cfg.norm_mean[size_t(c)])) * (1.0f / float(cfg.norm_std[size_t(c)]));
  }
  net->eval();
  Tensor logits;
  {
    NoGradGuard g;
    logits = net->forward(x);
  }
  const train::EvalResult direct = train::evaluate_logits(logits, train::all_rows(set));
  EXPECT_DOUBLE_EQ(r.accuracy, direct.accuracy);
  EXPECT_NEAR(r.loss, direct.loss, 1e-6);  // batched GEMMs may round differently
  EXPECT_EQ(r.images, 10);
}

TEST(Evaluate, BadInputFails) {
  const data::ImageSet set = labels_only({0, 1}, 2);
  const Tensor three = Tensor::zeros({2, 3});
  EXPECT_THROW(train::evaluate_logits(three, train::all_rows(set)), Error);
  const Tensor nan = Tensor::full({2, 2}, std::nan(""));
  EXPECT_THROW(train::evaluate_logits(nan, train::all_rows(set)), Error);
  data::ImageSet unlabelled = labels_only({0, -1}, 2);
  EXPECT_THROW(train::evaluate_logits(Tensor::zeros({2, 2}), train::all_rows(unlabelled)), Error);
}

}  // namespace
}  // namespace medtex
