#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/method/masking.h"
#include "medtex/method/objective.h"
#include "medtex/method/relaxed_topk.h"
#include "models/cnn_small.h"
#include "models/explainer.h"
#include "models/resnet18.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

std::vector<double> softmax_ref(const std::vector<double>& x, double t = 1.0) {
  double mx = x[0];
  for (double v : x) mx = std::max(mx, v);
  std::vector<double> p(x.size());
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (p[i] = std::exp((x[i] - mx) / t));
  for (double& v : p) v /= s;
  return p;
}

double kl_ref(const std::vector<double>& p, const std::vector<double>& q) {
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) s += p[i] * std::log(p[i] / q[i]);
  return s;
}

// ---- the terms against hand-computed values ------------------------------------

// p = (0.7, 0.1, 0.1, 0.1): KL(p || U) = 0.7 ln 2.8 + 0.3 ln 0.4 = 0.445846,
// while the reverse KL(U || p) = 0.25 (ln(0.25/0.7) + 3 ln 2.5) = 0.429813.
TEST(Objective, PriorIsKlFromTheExplainerToUniform) {
  const std::vector<double> p = {0.7, 0.1, 0.1, 0.1};
  std::vector<double> e;
  for (double v : p) e.push_back(std::log(v) + 0.3);  // softmax is shift-invariant
  const Tensor logits = Tensor::from_vector(e, {1, 4});
  const double forward = 0.7 * std::log(2.8) + 0.3 * std::log(0.4);
  const double reverse = 0.25 * (std::log(0.25 / 0.7) + 3 * std::log(2.5));
  EXPECT_NEAR(forward, 0.445846, 1e-6);
  EXPECT_NEAR(reverse, 0.429813, 1e-6);
  const double got = method::uniform_prior_kl(logits).item();
  EXPECT_NEAR(got, forward, 1e-12);
  EXPECT_GT(std::abs(got - reverse), 0.01);
  // A batch is averaged per sample; a uniform row costs nothing.
  const Tensor two =
      Tensor::from_vector(std::vector<double>{e[0], e[1], e[2], e[3], 1, 1, 1, 1}, {2, 4});
  EXPECT_NEAR(method::uniform_prior_kl(two).item(), forward / 2, 1e-12);
}

// T^2 KL(softmax(t/T) || softmax(s/T)), teacher first, checked against a
// loop; the reverse direction gives a different number.
TEST(Objective, DistillationIsTeacherToStudentKlTimesTSquared) {
  const std::vector<double> t = {2.0, -1.0, 0.5}, s = {0.3, 0.8, -0.4};
  const double T = 2.0;
  const double expected = T * T * kl_ref(softmax_ref(t, T), softmax_ref(s, T));
  const double reverse = T * T * kl_ref(softmax_ref(s, T), softmax_ref(t, T));
  const double got =
      method::distillation_kl(Tensor::from_vector(s, {1, 3}), Tensor::from_vector(t, {1, 3}), T)
          .item();
  EXPECT_NEAR(got, expected, 1e-12);
  EXPECT_GT(std::abs(got - reverse), 1e-3);
}

TEST(Objective, ExplanationIsCrossEntropyToTheTeachersSoftmax) {
  const std::vector<double> t = {1.0, 0.0, -2.0}, s = {-0.5, 1.5, 0.2};
  const auto pt = softmax_ref(t), ps = softmax_ref(s);
  double expected = 0;
  for (int i = 0; i < 3; ++i) expected -= pt[size_t(i)] * std::log(ps[size_t(i)]);
  EXPECT_NEAR(
      method::explanation_ce(Tensor::from_vector(s, {1, 3}), Tensor::from_vector(t, {1, 3})).item(),
      expected, 1e-12);
}

TEST(Objective, LabelTermUsesOnlyLabelledSamples) {
  const Tensor s = test::random_double({3, 4}, 1);
  const auto sv = s.to_vector<double>();
  const Tensor subset = Tensor::from_vector(
      std::vector<double>{sv[0], sv[1], sv[2], sv[3], sv[8], sv[9], sv[10], sv[11]}, {2, 4});
  const double expected =
      ops::cross_entropy(subset, Tensor::from_vector(std::vector<int64_t>{2, 0}, {2})).item();
  for (DType dt : {DType::I64, DType::I32}) {
    const Tensor labels = Tensor::from_vector(std::vector<int64_t>{2, -1, 0}, {3}).to(dt);
    const auto term = method::labelled_cross_entropy(s, labels);
    EXPECT_EQ(term.labelled, 2);
    EXPECT_NEAR(term.loss.item(), expected, 1e-12);
  }
  const auto none =
      method::labelled_cross_entropy(s, Tensor::from_vector(std::vector<int64_t>{-1, -1, -1}, {3}));
  EXPECT_EQ(none.labelled, 0);
  EXPECT_EQ(none.loss.item(), 0.0);
  EXPECT_EQ(method::labelled_cross_entropy(s, Tensor()).labelled, 0);
  EXPECT_THROW(
      method::labelled_cross_entropy(s, Tensor::from_vector(std::vector<int64_t>{0, 4, 1}, {3})),
      Error);
  EXPECT_THROW(
      method::labelled_cross_entropy(s, Tensor::from_vector(std::vector<int64_t>{0, 1}, {2})),
      Error);
}

TEST(Objective, TotalIsTheWeightedSumOfTheTerms) {
  const Tensor t = test::random_double({3, 4}, 2), s = test::random_double({3, 4}, 3);
  const Tensor sm = test::random_double({3, 4}, 4), e = test::random_double({3, 6}, 5);
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{-1, 3, 1}, {3});
  method::MedtexConfig c;
  c.a = 0.7, c.b = 1.3, c.c = 0.4, c.h = 0.9, c.temperature = 3.0;
  const auto terms = method::medtex_objective(t, s, sm, e, labels, c);
  EXPECT_NEAR(terms.kd.item(), method::distillation_kl(s, t, 3.0).item(), 1e-14);
  EXPECT_NEAR(terms.explain.item(), method::explanation_ce(sm, t).item(), 1e-14);
  EXPECT_NEAR(terms.prior.item(), method::uniform_prior_kl(e).item(), 1e-14);
  EXPECT_NEAR(terms.label.item(), method::labelled_cross_entropy(s, labels).loss.item(), 1e-14);
  EXPECT_EQ(terms.labelled, 2);
  EXPECT_NEAR(terms.total.item(),
              0.7 * terms.kd.item() + 1.3 * terms.explain.item() + 0.4 * terms.prior.item() +
                  0.9 * terms.label.item(),
              1e-12);
  // No labelled sample: the label term is 0 and leaves the total alone.
  const auto unlabelled = method::medtex_objective(
      t, s, sm, e, Tensor::from_vector(std::vector<int64_t>{-1, -1, -1}, {3}), c);
  EXPECT_EQ(unlabelled.label.item(), 0.0);
  EXPECT_NEAR(unlabelled.total.item(),
              0.7 * terms.kd.item() + 1.3 * terms.explain.item() + 0.4 * terms.prior.item(), 1e-12);
  c.a = -1;
  EXPECT_THROW(method::medtex_objective(t, s, sm, e, labels, c), Error);
}

TEST(Objective, HintonKd) {
  const Tensor t = test::random_double({3, 5}, 6), s = test::random_double({3, 5}, 7);
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{4, -1, 0}, {3});
  const method::KdConfig c{0.9, 4.0};
  const auto kd = method::hinton_kd(s, t, labels, c);
  EXPECT_EQ(kd.labelled, 2);
  EXPECT_NEAR(kd.total.item(),
              0.1 * method::labelled_cross_entropy(s, labels).loss.item() +
                  0.9 * method::distillation_kl(s, t, 4.0).item(),
              1e-12);
  const auto no_labels = method::hinton_kd(s, t, Tensor(), c);
  EXPECT_NEAR(no_labels.total.item(), 0.9 * no_labels.kd.item(), 1e-14);
  Tensor sg = s.copy().set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) { return method::hinton_kd(in[0], t, labels, c).total; },
      {sg}));
  EXPECT_THROW(method::hinton_kd(s, t, labels, {1.5, 4.0}), Error);
}

// ---- gradients by finite differences, in double ---------------------------------

// Fixed inputs of the double-precision checks: 3 images 2x8x8 in 4x4 patches
// (d = 4), k = 2 Gumbel samples, 3 classes, one unlabelled sample.
struct GradSetup {
  int n = 3, ch = 2, size = 8, patch = 4, d = 4, classes = 3, hidden = 4;
  method::MedtexConfig config;
  Tensor x, teacher, labels, noise;
  GradSetup() {
    config.a = 0.7, config.b = 1.3, config.c = 0.4, config.h = 0.9;
    config.temperature = 2.0, config.tau = 0.5, config.k = 2, config.fill = 0.2;
    x = test::random_double({n, ch, size, size}, 11);
    teacher = test::random_double({n, classes}, 12, -2, 2);
    labels = Tensor::from_vector(std::vector<int64_t>{2, -1, 0}, {3});
    Generator gen(13);
    noise = ops::gumbel({config.k, n, d}, gen, DType::F64);
  }
};

// A student stand-in in double from the same ops as the nets: conv3x3 -
// BatchNorm in training mode (batch statistics, no running update, as the
// masked pass) - ReLU - global average pool - linear.
Tensor student_double(const Tensor& x, const Tensor& w, const Tensor& gamma, const Tensor& beta,
                      const Tensor& fw, const Tensor& fb) {
  const int64_t k = w.size(0);
  Tensor h = ops::conv2d(x, w, Tensor(), 1, 1);
  h = ops::batchnorm2d(h, gamma, beta, Tensor::zeros({k}, DType::F64),
                       Tensor::ones({k}, DType::F64),
                       /*training=*/true, 0.1, 1e-5, /*update_running=*/false);
  return ops::linear(ops::global_avgpool(ops::relu(h)), fw, fb);
}

// Explainer logits e -> relaxed mask at fixed noise -> masked images -> the
// student on both -> the full objective: its gradient with respect to e and
// to every student weight.
TEST(ObjectiveGrad, FullObjectiveThroughTheGumbelRelaxationWrtExplainerLogits) {
  GradSetup su;
  Tensor e = test::random_double({su.n, su.d}, 14).set_requires_grad();
  Tensor w = test::random_double({su.hidden, su.ch, 3, 3}, 15).set_requires_grad();
  Tensor gamma = test::random_double({su.hidden}, 16, 0.5, 1.5).set_requires_grad();
  Tensor beta = test::random_double({su.hidden}, 17).set_requires_grad();
  Tensor fw = test::random_double({su.classes, su.hidden}, 18).set_requires_grad();
  Tensor fb = test::random_double({su.classes}, 19).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) {
        const Tensor z = method::relaxed_topk_from_noise(in[0], su.noise, su.config.tau);
        const Tensor masked = method::apply_patch_mask(su.x, z, su.patch, su.config.fill);
        const Tensor s = student_double(su.x, in[1], in[2], in[3], in[4], in[5]);
        const Tensor sm = student_double(masked, in[1], in[2], in[3], in[4], in[5]);
        return method::medtex_objective(su.teacher, s, sm, in[0], su.labels, su.config).total;
      },
      {e, w, gamma, beta, fw, fb}));
}

// The same from the explainer's weights: a patch-embedding explainer (one
// patch x patch convolution with stride patch) in front of the relaxation.
TEST(ObjectiveGrad, FullObjectiveWrtExplainerWeights) {
  GradSetup su;
  Tensor we =
      test::random_double({1, su.ch, su.patch, su.patch}, 20, -0.5, 0.5).set_requires_grad();
  Tensor be = test::random_double({1}, 21).set_requires_grad();
  const Tensor w = test::random_double({su.hidden, su.ch, 3, 3}, 15);
  const Tensor gamma = test::random_double({su.hidden}, 16, 0.5, 1.5);
  const Tensor beta = test::random_double({su.hidden}, 17);
  const Tensor fw = test::random_double({su.classes, su.hidden}, 18);
  const Tensor fb = test::random_double({su.classes}, 19);
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) {
        const Tensor e = ops::flatten(ops::conv2d(su.x, in[0], in[1], su.patch, 0), 1);
        const Tensor z = method::relaxed_topk_from_noise(e, su.noise, su.config.tau);
        const Tensor masked = method::apply_patch_mask(su.x, z, su.patch, su.config.fill);
        const Tensor s = student_double(su.x, w, gamma, beta, fw, fb);
        const Tensor sm = student_double(masked, w, gamma, beta, fw, fb);
        return method::medtex_objective(su.teacher, s, sm, e, su.labels, su.config).total;
      },
      {we, be}));
}

// At the logits level: the gradient with respect to the student's logits on
// the full and on the masked image and the explainer's logits, for default
// and for other weights, with and without labels.
TEST(ObjectiveGrad, WrtStudentAndExplainerLogits) {
  GradSetup su;
  Tensor s = test::random_double({su.n, su.classes}, 22, -2, 2).set_requires_grad();
  Tensor sm = test::random_double({su.n, su.classes}, 23, -2, 2).set_requires_grad();
  Tensor e = test::random_double({su.n, 6}, 24, -2, 2).set_requires_grad();
  const Tensor no_labels = Tensor::from_vector(std::vector<int64_t>{-1, -1, -1}, {3});
  for (const method::MedtexConfig& c : {method::MedtexConfig{}, su.config}) {
    for (const Tensor& labels : {su.labels, no_labels}) {
      EXPECT_TRUE(test::gradcheck(
          [&](const std::vector<Tensor>& in) {
            return method::medtex_objective(su.teacher, in[0], in[1], in[2], labels, c).total;
          },
          {s, sm, e}));
    }
  }
  // The teacher is frozen: its logits get no gradient even when they could.
  Tensor t = su.teacher.copy().set_requires_grad();
  method::medtex_objective(t, s, sm, e, su.labels, su.config).total.backward();
  EXPECT_FALSE(t.grad().defined());
}

// ---- the pass of the three nets (float32 modules) -------------------------------

struct Nets {
  std::shared_ptr<models::ResNet18> teacher;
  std::shared_ptr<models::CnnSmall> student;
  std::shared_ptr<models::Explainer> explainer;
  explicit Nets(uint64_t seed) {
    Generator gen(seed);
    teacher = std::make_shared<models::ResNet18>(3, 0.0625, gen);
    student = std::make_shared<models::CnnSmall>(3, 0.25, gen);
    explainer = std::make_shared<models::Explainer>(8, 0.25, gen);
  }
};

Tensor images(int n) {
  return test::random_float({n, 3, 32, 32}, 30);
}
Tensor some_labels() {
  return Tensor::from_vector(std::vector<int64_t>{0, -1, 2, -1}, {4});
}

TEST(MedtexPass, GradientsReachStudentAndExplainerNeverTheTeacher) {
  Nets nets(1);
  method::MedtexConfig c;
  c.k = 4;
  Generator gumbel = Generator(2).fork("gumbel");
  const auto pass = method::medtex_pass(*nets.teacher, *nets.student, *nets.explainer, images(4),
                                        some_labels(), c, gumbel);
  EXPECT_FALSE(nets.teacher->is_training());
  EXPECT_EQ(pass.explainer_logits.shape(), (Shape{4, 16}));
  EXPECT_EQ(pass.mask.shape(), (Shape{4, 16}));
  EXPECT_EQ(pass.masked_images.shape(), (Shape{4, 3, 32, 32}));
  EXPECT_EQ(pass.terms.labelled, 2);
  for (const Tensor& t :
       {pass.terms.total, pass.terms.kd, pass.terms.explain, pass.terms.prior, pass.terms.label}) {
    EXPECT_TRUE(std::isfinite(t.item()));
  }
  EXPECT_NEAR(pass.terms.total.item(),
              c.a * pass.terms.kd.item() + c.b * pass.terms.explain.item() +
                  c.c * pass.terms.prior.item() + c.h * pass.terms.label.item(),
              1e-5);
  pass.terms.total.backward();
  auto nonzero = [](const Tensor& g) {
    if (!g.defined()) return false;
    for (float v : g.to_vector<float>()) {
      if (v != 0.0f) return true;
    }
    return false;
  };
  for (auto& [name, p] : nets.student->named_parameters()) EXPECT_TRUE(nonzero(p.grad())) << name;
  for (auto& [name, p] : nets.explainer->named_parameters()) EXPECT_TRUE(nonzero(p.grad())) << name;
  for (auto& [name, p] : nets.teacher->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;
}

// Without the prior the explainer still learns: its only other gradient path
// is the student's pass on the masked image.
TEST(MedtexPass, ExplainerLearnsThroughTheMaskedStudentPass) {
  Nets nets(3);
  method::MedtexConfig c;
  c.c = 0;
  Generator gumbel(4);
  method::medtex_pass(*nets.teacher, *nets.student, *nets.explainer, images(4), some_labels(), c,
                      gumbel)
      .terms.total.backward();
  double norm = 0;
  for (float v : nets.explainer->head->weight.grad().to_vector<float>()) norm += double(v) * v;
  EXPECT_GT(norm, 0.0);
}

// DESIGN §5: the masked pass uses batch statistics but leaves every running
// statistic of the student bit for bit as the unmasked pass left it.
TEST(MedtexPass, MaskedPassLeavesBatchNormRunningStatisticsUntouched) {
  Nets a(5), b(5);
  const Tensor x = images(4);
  std::map<std::string, Tensor> initial;
  for (auto& [name, t] : a.student->named_buffers()) initial[name] = t.copy();

  Generator gumbel(6);
  const auto pass = method::medtex_pass(*a.teacher, *a.student, *a.explainer, x, some_labels(),
                                        method::MedtexConfig{}, gumbel);
  b.student->forward(x);  // the unmasked pass alone, on an identical student

  ASSERT_EQ(a.student->named_buffers().size(), 12u);
  for (auto& [name, t] : a.student->named_buffers()) {
    const Tensor other = b.student->state_dict().at(name);
    EXPECT_TRUE(test::bitwise_equal(t, other)) << name << " moved in the masked pass";
    EXPECT_FALSE(test::bitwise_equal(t, initial.at(name))) << name << " did not move at all";
  }
  EXPECT_EQ(a.student->bns[0]->num_batches_tracked.item(), 1);

  // Batch statistics: the masked logits are what a train-mode pass over x~
  // gives (bitwise), not what the running averages would give.
  const Tensor masked = pass.masked_images.detach();
  Nets c(5);
  c.student->load_state_dict(a.student->state_dict());
  const Tensor batch_stats = c.student->forward(masked);
  EXPECT_TRUE(test::bitwise_equal(pass.masked_student_logits, batch_stats));
  c.student->eval();
  EXPECT_GT(test::max_abs_diff(pass.masked_student_logits, c.student->forward(masked)), 1e-4);
}

TEST(MedtexPass, TeacherIsFrozenAndUsesRunningStatistics) {
  Nets nets(7);
  std::map<std::string, Tensor> before;
  for (auto& [name, t] : nets.teacher->state_dict()) before[name] = t.copy();
  nets.teacher->train();
  const Tensor x = images(4);
  Generator gumbel(8);
  const auto pass = method::medtex_pass(*nets.teacher, *nets.student, *nets.explainer, x, Tensor(),
                                        method::MedtexConfig{}, gumbel);
  EXPECT_FALSE(pass.teacher_logits.requires_grad());
  for (auto& [name, t] : nets.teacher->state_dict()) {
    EXPECT_TRUE(test::bitwise_equal(t, before.at(name))) << name;
  }
  NoGradGuard no_grad;
  EXPECT_TRUE(test::bitwise_equal(pass.teacher_logits, nets.teacher->forward(x)));
}

// medtex_pass is medtex_pass_from with the teacher's logits and noise drawn
// from the same generator: same numbers, bit for bit; and the same seed gives
// the same pass.
TEST(MedtexPass, ExplicitNoiseFormAndDeterminism) {
  const Tensor x = images(4);
  method::MedtexConfig c;
  Nets a(9), b(9), d(9);
  Generator g1 = Generator(10).fork("gumbel");
  const auto p1 =
      method::medtex_pass(*a.teacher, *a.student, *a.explainer, x, some_labels(), c, g1);
  Generator g2 = Generator(10).fork("gumbel");
  const Tensor noise = method::gumbel_noise(c.k, Tensor::zeros({4, 16}), g2);
  const Tensor t = method::teacher_logits(*b.teacher, x);
  const auto p2 = method::medtex_pass_from(t, *b.student, *b.explainer, x, some_labels(), c, noise);
  EXPECT_TRUE(test::bitwise_equal(p1.terms.total, p2.terms.total));
  EXPECT_TRUE(test::bitwise_equal(p1.mask, p2.mask));
  Generator g3 = Generator(10).fork("gumbel");
  const auto p3 =
      method::medtex_pass(*d.teacher, *d.student, *d.explainer, x, some_labels(), c, g3);
  EXPECT_TRUE(test::bitwise_equal(p1.terms.total, p3.terms.total));
  EXPECT_THROW(method::medtex_pass_from(t, *b.student, *b.explainer, x, some_labels(), c,
                                        Tensor::zeros({3, 4, 16})),
               Error);  // noise for k = 3, config says 8
}

}  // namespace
}  // namespace medtex
