#include <cmath>

#include <gtest/gtest.h>

#include "engine/optim/optimizer.h"
#include "engine/optim/schedule.h"
#include "tests/support/fixtures.h"

namespace medtex {
namespace {

Tensor param(std::vector<double> v) {
  Tensor p = Tensor::from_vector(v, {int64_t(v.size())});
  p.set_requires_grad();
  return p;
}

void set_grad(Tensor& p, std::vector<double> g) {
  p.impl().grad = Tensor::from_vector(g, p.shape()).impl_ptr();
}

TEST(Sgd, MomentumByHand) {
  Tensor p = param({1.0});
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  set_grad(p, {0.5});
  opt.step();  // buf = 0.5; p = 1 - 0.1 * 0.5
  EXPECT_DOUBLE_EQ(p.item(), 0.95);
  set_grad(p, {0.5});
  opt.step();  // buf = 0.9 * 0.5 + 0.5 = 0.95; p = 0.95 - 0.095
  EXPECT_DOUBLE_EQ(p.item(), 0.855);
}

TEST(Sgd, NesterovAndWeightDecayByHand) {
  Tensor p = param({2.0});
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.5, .weight_decay = 0.1, .nesterov = true});
  set_grad(p, {1.0});
  opt.step();  // d = 1 + 0.2 = 1.2; buf = 1.2; d = 1.2 + 0.5 * 1.2 = 1.8; p = 2 - 0.18
  EXPECT_NEAR(p.item(), 1.82, 1e-15);
}

TEST(Sgd, SkipsParametersWithoutGradient) {
  Tensor p = param({3.0});
  optim::SGD opt({p}, {.lr = 0.1});
  opt.step();
  EXPECT_EQ(p.item(), 3.0);
}

TEST(Adam, FirstStepMovesByLearningRate) {
  // After one step m_hat = g and v_hat = g^2, so p moves by lr * g / (|g| + eps).
  Tensor p = param({1.0, -1.0});
  optim::Adam opt({p}, {.lr = 0.01});
  set_grad(p, {0.5, -4.0});
  opt.step();
  const auto v = p.to_vector<double>();
  EXPECT_NEAR(v[0], 1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1e-15);
  EXPECT_NEAR(v[1], -1.0 + 0.01 * 4.0 / (4.0 + 1e-8), 1e-15);
}

TEST(Adam, AdamWDecaysBeforeTheUpdate) {
  Tensor p = param({1.0});
  auto o = optim::adamw_defaults();
  o.lr = 0.1;
  o.weight_decay = 0.5;
  optim::Adam opt({p}, o);
  set_grad(p, {2.0});
  opt.step();  // p = 1 * (1 - 0.05) - 0.1 * 2 / (2 + 1e-8)
  EXPECT_NEAR(p.item(), 0.95 - 0.1 * 2.0 / (2.0 + 1e-8), 1e-15);
}

// Three steps of torch.optim on float32 parameters with fixed gradients.
TEST(Optimizers, MatchPyTorchTrajectories) {
  test::Fixture f("optim");
  for (const auto& c : f.cases()) {
    const auto prm = f.params(c);
    Tensor p = f.get(c, "p0").set_requires_grad();
    std::unique_ptr<optim::Optimizer> opt;
    if (prm["kind"] == "SGD") {
      optim::SgdOptions o;
      o.lr = prm["lr"];
      o.momentum = prm.value("momentum", 0.0);
      o.dampening = prm.value("dampening", 0.0);
      o.weight_decay = prm.value("weight_decay", 0.0);
      o.nesterov = prm.value("nesterov", false);
      opt = std::make_unique<optim::SGD>(std::vector<Tensor>{p}, o);
    } else {
      optim::AdamOptions o = prm["kind"] == "AdamW" ? optim::adamw_defaults() : optim::AdamOptions{};
      o.lr = prm["lr"];
      o.beta1 = prm.value("beta1", 0.9);
      o.beta2 = prm.value("beta2", 0.999);
      o.eps = prm.value("eps", 1e-8);
      o.weight_decay = prm.value("weight_decay", o.weight_decay);
      opt = std::make_unique<optim::Adam>(std::vector<Tensor>{p}, o);
    }
    // Names built by append: g++ 12 at -O3 raises a
    // false -Wrestrict on `"p" + std::to_string(s)` (GCC bug 105329).
    for (const char* s : {"1", "2", "3"}) {
      p.impl().grad = f.get(c, std::string("g").append(s)).impl_ptr();
      opt->step();
      // float32 arithmetic in a slightly different order than PyTorch's
      // (e.g. bias corrections folded into scalars): a few ulps of |p| ~ 1.
      const std::string name = std::string("p").append(s);
      test::expect_fixture("optim", c, name, p, f.get(c, name), 1e-6, 1e-6);
    }
  }
}

TEST(Schedules, CosineEndpointsAndMidpoint) {
  optim::CosineSchedule s{.base_lr = 0.1, .total_steps = 100, .min_lr = 0.001};
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_NEAR(s.at(50), (0.1 + 0.001) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(s.at(100), 0.001);
  EXPECT_DOUBLE_EQ(s.at(1000), 0.001);
  EXPECT_GT(s.at(10), s.at(20));
}

TEST(Schedules, CosineWarmupRisesLinearly) {
  optim::CosineSchedule s{.base_lr = 1.0, .total_steps = 20, .warmup_steps = 4};
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 1.0);
  EXPECT_LT(s.at(5), 1.0);
}

TEST(Schedules, StepDecays) {
  optim::StepSchedule s{.base_lr = 1.0, .step_size = 10, .gamma = 0.5};
  EXPECT_DOUBLE_EQ(s.at(9), 1.0);
  EXPECT_DOUBLE_EQ(s.at(10), 0.5);
  EXPECT_DOUBLE_EQ(s.at(25), 0.25);
  EXPECT_THROW((optim::StepSchedule{.base_lr = 1.0, .step_size = 0}.at(1)), Error);
}

TEST(Sgd, RejectsNesterovWithoutMomentum) {
  Tensor p = param({1.0});
  EXPECT_THROW(optim::SGD({p}, {.lr = 0.1, .nesterov = true}), Error);
}

}  // namespace
}  // namespace medtex
