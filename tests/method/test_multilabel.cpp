#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/method/masking.h"
#include "medtex/method/multilabel.h"
#include "medtex/method/objective.h"
#include "medtex/method/relaxed_topk.h"
#include "models/cnn_small.h"
#include "models/explainer.h"
#include "models/resnet18.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

double sig(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

double bernoulli_kl(double p, double q) {
  return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
}

double bernoulli_ce(double p, double q) {
  return -(p * std::log(q) + (1 - p) * std::log(1 - q));
}

Tensor row(const std::vector<double>& v, int64_t n, int64_t l) {
  return Tensor::from_vector(v, {n, l});
}

// ---- hand-computed values --------------------------------------------------------

TEST(MultiLabel, PairsAreTwoClassSoftmaxOfABernoulli) {
  const Tensor x = row({1.5, -0.5, 3.0, 0.0}, 2, 2);
  const Tensor pairs = method::bernoulli_pairs(x);
  EXPECT_EQ(pairs.shape(), (Shape{4, 2}));
  EXPECT_EQ(pairs.to_vector<double>(), (std::vector<double>{0, 1.5, 0, -0.5, 0, 3.0, 0, 0}));
  const auto p = ops::softmax(pairs, -1).to_vector<double>();
  for (int i = 0; i < 4; ++i) {
    const double xi = x.to_vector<double>()[size_t(i)];
    EXPECT_NEAR(p[size_t(2 * i + 1)], sig(xi), 1e-15);
    EXPECT_NEAR(p[size_t(2 * i)], 1 - sig(xi), 1e-15);
  }
}

// Two images, two labels, T = 2: T^2 * mean of the four Bernoulli KLs.
TEST(MultiLabel, DistillationIsTSquaredMeanBernoulliKl) {
  const std::vector<double> t = {2.0, -1.0, 0.5, 3.0}, s = {0.5, 0.3, -1.0, 2.0};
  const double T = 2.0;
  double expected = 0;
  for (size_t i = 0; i < 4; ++i) expected += bernoulli_kl(sig(t[i] / T), sig(s[i] / T)) / 4;
  expected *= T * T;
  const double got = method::bernoulli_distillation_kl(row(s, 2, 2), row(t, 2, 2), T).item();
  EXPECT_NEAR(got, expected, 1e-14);
  // Zero when the student matches; the reverse direction differs.
  EXPECT_NEAR(method::bernoulli_distillation_kl(row(t, 2, 2), row(t, 2, 2), T).item(), 0.0, 1e-15);
  double reverse = 0;
  for (size_t i = 0; i < 4; ++i) reverse += bernoulli_kl(sig(s[i] / T), sig(t[i] / T)) / 4;
  EXPECT_GT(std::abs(got - T * T * reverse), 1e-3);
  // Saturated logits stay finite (log-sum-exp forms).
  const double big =
      method::bernoulli_distillation_kl(row({60, -60}, 1, 2), row({-60, 60}, 1, 2), 1).item();
  EXPECT_TRUE(std::isfinite(big));
  EXPECT_NEAR(big, 60.0, 1e-6);  // KL(Bern(~1) || Bern(e^-60)) ~ 60 per label; the mean of two
}

TEST(MultiLabel, ExplanationIsMeanBernoulliCrossEntropyToTheTeacher) {
  const std::vector<double> t = {1.0, -2.0, 0.0}, sm = {-0.5, 1.5, 0.2};
  double expected = 0;
  for (size_t i = 0; i < 3; ++i) expected += bernoulli_ce(sig(t[i]), sig(sm[i])) / 3;
  EXPECT_NEAR(method::bernoulli_explanation_ce(row(sm, 1, 3), row(t, 1, 3)).item(), expected,
              1e-14);
}

// 3 images x 3 labels with blanks; y = 1, 0 and a soft 0.3.
TEST(MultiLabel, LabelTermAveragesOverKnownEntriesOnly) {
  const std::vector<double> s = {0.4, -1.2, 2.0, 0.7, 0.1, -0.3, 1.1, -2.0, 0.9};
  const std::vector<double> y = {1, 0, 1, 0, 0.3, 1, 0, 0, 0};
  const std::vector<double> known = {1, 0, 1, 1, 1, 0, 0, 0, 0};  // image 2 unlabelled
  double expected = 0;
  int n_known = 0;
  for (size_t i = 0; i < 9; ++i) {
    if (known[i] == 0) continue;
    expected += bernoulli_ce(y[i], sig(s[i]));
    ++n_known;
  }
  expected /= n_known;
  const auto term = method::known_bce_with_logits(row(s, 3, 3), row(y, 3, 3), row(known, 3, 3));
  EXPECT_NEAR(term.loss.item(), expected, 1e-14);
  EXPECT_EQ(term.known, 4);
  EXPECT_EQ(term.labelled, 2);
  // Known mask in float32 or int: the same.
  EXPECT_NEAR(
      method::known_bce_with_logits(row(s, 3, 3), row(y, 3, 3), row(known, 3, 3).to(DType::I64))
          .loss.item(),
      expected, 1e-14);
  // Everything known: ops::bce_with_logits.
  const Tensor all = method::known_bce_with_logits(row(s, 3, 3), row(y, 3, 3), Tensor()).loss;
  EXPECT_NEAR(all.item(), ops::bce_with_logits(row(s, 3, 3), row(y, 3, 3)).item(), 1e-14);

  // Blank entries are excluded: their logits and targets change nothing,
  // and their gradient is exactly 0.
  std::vector<double> s2 = s, y2 = y;
  for (size_t i = 0; i < 9; ++i) {
    if (known[i] == 0) s2[i] += 5.0, y2[i] = 1.0 - y2[i];
  }
  EXPECT_NEAR(
      method::known_bce_with_logits(row(s2, 3, 3), row(y2, 3, 3), row(known, 3, 3)).loss.item(),
      expected, 1e-14);
  Tensor sg = row(s, 3, 3).set_requires_grad();
  method::known_bce_with_logits(sg, row(y, 3, 3), row(known, 3, 3)).loss.backward();
  const auto g = sg.grad().to_vector<double>();
  for (size_t i = 0; i < 9; ++i) {
    if (known[i] == 0) {
      EXPECT_EQ(g[i], 0.0) << i;
    } else {
      EXPECT_NEAR(g[i], (sig(s[i]) - y[i]) / n_known, 1e-15) << i;  // d BCE / d s = sig(s) - y
    }
  }

  // Nothing known, or no targets: 0 and no labelled image.
  const auto none =
      method::known_bce_with_logits(row(s, 3, 3), row(y, 3, 3), Tensor::zeros({3, 3}, DType::F64));
  EXPECT_EQ(none.known, 0);
  EXPECT_EQ(none.loss.item(), 0.0);
  EXPECT_EQ(method::known_bce_with_logits(row(s, 3, 3), Tensor(), Tensor()).labelled, 0);
  // Bad input.
  EXPECT_THROW(method::known_bce_with_logits(row(s, 3, 3), row(y, 3, 3),
                                             Tensor::full({3, 3}, 0.5, DType::F64)),
               Error);
  std::vector<double> bad = y;
  bad[0] = 1.5;
  EXPECT_THROW(method::known_bce_with_logits(row(s, 3, 3), row(bad, 3, 3), Tensor()), Error);
  EXPECT_THROW(
      method::known_bce_with_logits(row(s, 3, 3), Tensor::zeros({3, 2}, DType::F64), Tensor()),
      Error);
}

TEST(MultiLabel, ObjectiveIsTheWeightedSum) {
  const Tensor t = test::random_double({3, 4}, 1, -2, 2), s = test::random_double({3, 4}, 2, -2, 2);
  const Tensor sm = test::random_double({3, 4}, 3, -2, 2), e = test::random_double({3, 6}, 4);
  const Tensor y = row({1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0}, 3, 4);
  const Tensor known = row({1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1}, 3, 4);
  method::MedtexConfig c;
  c.a = 0.7, c.b = 1.3, c.c = 0.4, c.h = 0.9, c.temperature = 3.0;
  const auto terms = method::multilabel_objective(t, s, sm, e, y, known, c);
  EXPECT_NEAR(terms.kd.item(), method::bernoulli_distillation_kl(s, t, 3.0).item(), 1e-14);
  EXPECT_NEAR(terms.explain.item(), method::bernoulli_explanation_ce(sm, t).item(), 1e-14);
  EXPECT_NEAR(terms.prior.item(), method::uniform_prior_kl(e).item(), 1e-14);
  EXPECT_NEAR(terms.label.item(), method::known_bce_with_logits(s, y, known).loss.item(), 1e-14);
  EXPECT_EQ(terms.labelled, 2);
  EXPECT_NEAR(terms.total.item(),
              0.7 * terms.kd.item() + 1.3 * terms.explain.item() + 0.4 * terms.prior.item() +
                  0.9 * terms.label.item(),
              1e-12);
  c.b = -1;
  EXPECT_THROW(method::multilabel_objective(t, s, sm, e, y, known, c), Error);
  c.b = 1;
  EXPECT_THROW(method::multilabel_objective(t, s, sm, test::random_double({2, 6}, 5), y, known, c),
               Error);

  const auto kd = method::multilabel_hinton_kd(s, t, y, known, {0.9, 4.0});
  EXPECT_NEAR(kd.total.item(),
              0.1 * method::known_bce_with_logits(s, y, known).loss.item() +
                  0.9 * method::bernoulli_distillation_kl(s, t, 4.0).item(),
              1e-12);
  EXPECT_EQ(kd.labelled, 2);
}

// ---- finite differences in double ---------------------------------------------------

TEST(MultiLabelGrad, EachTerm) {
  Tensor s = test::random_double({3, 4}, 10, -3, 3).set_requires_grad();
  const Tensor t = test::random_double({3, 4}, 11, -3, 3);
  const Tensor y = test::random_double({3, 4}, 12, 0, 1);  // soft targets
  const Tensor known = row({1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1}, 3, 4);
  for (double T : {1.0, 2.5}) {
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return method::bernoulli_distillation_kl(in[0], t, T);
        },
        {s}))
        << "T = " << T;
  }
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) { return method::bernoulli_explanation_ce(in[0], t); },
      {s}));
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return method::known_bce_with_logits(in[0], y, known).loss;
      },
      {s}));
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) { return method::bernoulli_pairs(in[0]); }, {s}));
  // The teacher is frozen.
  Tensor tg = t.copy().set_requires_grad();
  method::bernoulli_distillation_kl(s, tg, 2.0).backward();
  method::bernoulli_explanation_ce(s, tg).backward();
  EXPECT_FALSE(tg.grad().defined());
}

TEST(MultiLabelGrad, FullObjectiveThroughTheGumbelRelaxation) {
  const int n = 3, ch = 2, size = 8, patch = 4, d = 4, labels = 3;
  method::MedtexConfig c;
  c.a = 0.7, c.b = 1.3, c.c = 0.4, c.h = 0.9, c.temperature = 2.0, c.k = 2, c.fill = 0.2;
  const Tensor x = test::random_double({n, ch, size, size}, 20);
  const Tensor t = test::random_double({n, labels}, 21, -2, 2);
  const Tensor y = row({1, 0, 1, 0, 0, 1, 1, 1, 0}, n, labels);
  const Tensor known = row({1, 0, 1, 1, 1, 0, 0, 0, 0}, n, labels);
  Generator gen(22);
  const Tensor noise = ops::gumbel({c.k, n, d}, gen, DType::F64);
  // Explainer: one patch-embedding conv; student: conv - ReLU - GAP - linear.
  Tensor we = test::random_double({1, ch, patch, patch}, 23, -0.5, 0.5).set_requires_grad();
  Tensor w = test::random_double({4, ch, 3, 3}, 24).set_requires_grad();
  Tensor fw = test::random_double({labels, 4}, 25).set_requires_grad();
  Tensor fb = test::random_double({labels}, 26).set_requires_grad();
  auto student = [&](const Tensor& img, const Tensor& cw, const Tensor& lw, const Tensor& lb) {
    return ops::linear(ops::global_avgpool(ops::relu(ops::conv2d(img, cw, Tensor(), 1, 1))), lw,
                       lb);
  };
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) {
        const Tensor e = ops::flatten(ops::conv2d(x, in[0], Tensor(), patch, 0), 1);
        const Tensor z = method::relaxed_topk_from_noise(e, noise, c.tau);
        const Tensor masked = method::apply_patch_mask(x, z, patch, c.fill);
        return method::multilabel_objective(t, student(x, in[1], in[2], in[3]),
                                            student(masked, in[1], in[2], in[3]), e, y, known, c)
            .total;
      },
      {we, w, fw, fb}));
}

// ---- the pass of the three nets ---------------------------------------------------------

struct Nets {
  std::shared_ptr<models::ResNet18> teacher;
  std::shared_ptr<models::CnnSmall> student;
  std::shared_ptr<models::Explainer> explainer;
  explicit Nets(uint64_t seed) {
    Generator gen(seed);
    teacher = std::make_shared<models::ResNet18>(4, 0.0625, gen);
    student = std::make_shared<models::CnnSmall>(4, 0.25, gen);
    explainer = std::make_shared<models::Explainer>(8, 0.25, gen);
  }
};

TEST(MultiLabelPass, MaskedPassLeavesRunningStatisticsAndMatchesTheExplicitNoiseForm) {
  Nets a(1), b(1), c(1);
  const Tensor x = test::random_float({4, 3, 32, 32}, 3);
  const Tensor y = Tensor::from_vector(std::vector<float>(16, 1.0f), {4, 4});
  std::vector<float> kv(16, 1.0f);
  kv[5] = kv[6] = 0.0f;
  const Tensor known = Tensor::from_vector(kv, {4, 4});
  method::MedtexConfig cfg;
  cfg.k = 3;
  Generator gumbel = Generator(5).fork("gumbel");
  const auto pass =
      method::multilabel_pass(*a.teacher, *a.student, *a.explainer, x, y, known, cfg, gumbel);
  EXPECT_EQ(pass.explainer_logits.shape(), (Shape{4, 16}));
  EXPECT_EQ(pass.terms.labelled, 4);
  EXPECT_TRUE(std::isfinite(pass.terms.total.item()));
  pass.terms.total.backward();
  for (auto& [name, p] : a.explainer->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  for (auto& [name, p] : a.student->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  for (auto& [name, p] : a.teacher->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;

  // Running statistics: exactly as after the unmasked pass alone.
  b.student->forward(x);
  for (auto& [name, t] : a.student->named_buffers()) {
    EXPECT_TRUE(test::bitwise_equal(t, b.student->state_dict().at(name))) << name;
  }

  // The explicit-noise form with the same draw gives the same total, bit for bit.
  Generator again = Generator(5).fork("gumbel");
  const Tensor noise = method::gumbel_noise(cfg.k, Tensor::zeros({4, 16}), again);
  const auto p2 = method::multilabel_pass_from(method::teacher_logits(*c.teacher, x), *c.student,
                                               *c.explainer, x, y, known, cfg, noise);
  EXPECT_TRUE(test::bitwise_equal(pass.terms.total, p2.terms.total));
  EXPECT_TRUE(test::bitwise_equal(pass.mask, p2.mask));
}

}  // namespace
}  // namespace medtex
