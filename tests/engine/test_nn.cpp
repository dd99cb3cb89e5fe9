#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/safetensors.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/tiny_cnn.h"

namespace medtex {
namespace {

// A torchvision-like block, to check hierarchical names.
class Block : public nn::Module {
 public:
  explicit Block(Generator& gen) {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(4, 4, 3, 1, 1, false, gen));
    bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(4));
  }
  Tensor forward(const Tensor& x) override { return ops::relu(bn1->forward(conv1->forward(x))); }
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
};

class Net : public nn::Module {
 public:
  explicit Net(Generator& gen) {
    layer1 = register_module("layer1", std::make_shared<nn::Sequential>(
                                           std::initializer_list<std::shared_ptr<nn::Module>>{
                                               std::make_shared<Block>(gen),
                                               std::make_shared<Block>(gen)}));
    fc = register_module("fc", std::make_shared<nn::Linear>(4, 3, true, gen));
  }
  Tensor forward(const Tensor& x) override {
    return fc->forward(ops::global_avgpool(layer1->forward(x)));
  }
  std::shared_ptr<nn::Sequential> layer1;
  std::shared_ptr<nn::Linear> fc;
};

TEST(Module, TorchvisionStyleNames) {
  Generator gen(1);
  Net net(gen);
  std::vector<std::string> names;
  for (auto& [n, t] : net.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"layer1.0.conv1.weight", "layer1.0.bn1.weight",
                                             "layer1.0.bn1.bias", "layer1.1.conv1.weight",
                                             "layer1.1.bn1.weight", "layer1.1.bn1.bias",
                                             "fc.weight", "fc.bias"}));
  const auto sd = net.state_dict();
  EXPECT_TRUE(sd.count("layer1.1.bn1.running_mean"));
  EXPECT_TRUE(sd.count("layer1.1.bn1.num_batches_tracked"));
  EXPECT_EQ(net.num_parameters(), 2 * (4 * 4 * 9 + 8) + 4 * 3 + 3);
}

TEST(Module, TrainEvalIsRecursive) {
  Generator gen(1);
  Net net(gen);
  net.eval();
  EXPECT_FALSE(net.layer1->children()[0].second->is_training());
  net.train();
  EXPECT_TRUE(net.fc->is_training());
}

TEST(Module, StateDictRoundTripThroughSafetensors) {
  Generator g1(1), g2(2);
  Net a(g1), b(g2);
  const auto path = (std::filesystem::temp_directory_path() / "medtex_nn_roundtrip.safetensors").string();
  save_safetensors(path, a.state_dict());
  b.load_state_dict(load_safetensors(path).tensors);
  std::filesystem::remove(path);
  for (auto& [name, t] : a.state_dict()) {
    EXPECT_TRUE(test::bitwise_equal(t, b.state_dict().at(name))) << name;
  }
}

TEST(Module, LoadingAnotherArchitectureNamesTheFirstMismatch) {
  Generator gen(1);
  Net net(gen);
  auto sd = net.state_dict();
  const auto before = net.fc->weight.copy();
  sd["fc.weight"] = Tensor::zeros({5, 4});
  try {
    net.load_state_dict(sd);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fc.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 4]"), std::string::npos) << msg;
  }
  EXPECT_TRUE(test::bitwise_equal(before, net.fc->weight));  // nothing was changed
  sd = net.state_dict();
  sd.erase("layer1.0.bn1.running_var");
  EXPECT_THROW(net.load_state_dict(sd), Error);
  sd = net.state_dict();
  sd["extra"] = Tensor::zeros({1});
  EXPECT_THROW(net.load_state_dict(sd), Error);
  EXPECT_NO_THROW(net.load_state_dict(sd, /*strict=*/false));
}

TEST(Init, TorchDefaultBoundsForConvAndLinear) {
  Generator gen(3);
  nn::Conv2d conv(16, 32, 3, 1, 1, true, gen);
  const double bound = 1.0 / std::sqrt(16 * 9);
  double mx = 0, s2 = 0;
  for (float v : conv.weight.to_vector<float>()) mx = std::max(mx, double(std::abs(v))), s2 += v * v;
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.95 * bound);
  // U(-b, b) has variance b^2 / 3.
  EXPECT_NEAR(s2 / double(conv.weight.numel()), bound * bound / 3, 0.1 * bound * bound / 3);
  for (float v : conv.bias.to_vector<float>()) EXPECT_LE(std::abs(v), bound);
  nn::BatchNorm2d bn(5);
  EXPECT_EQ(bn.weight.to_vector<float>(), std::vector<float>(5, 1.0f));
  EXPECT_EQ(bn.running_var.to_vector<float>(), std::vector<float>(5, 1.0f));
}

TEST(BatchNorm, FreezeRunningStatsKeepsBuffersButUsesBatchStatistics) {
  Generator gen(4);
  nn::BatchNorm2d bn(3);
  Tensor x = Tensor::empty({4, 3, 5, 5});
  gen.normal_(x, 2.0, 3.0);
  const auto mean0 = bn.running_mean.copy(), var0 = bn.running_var.copy();
  Tensor y;
  {
    nn::FreezeRunningStats freeze;
    y = bn.forward(x);
  }
  EXPECT_TRUE(test::bitwise_equal(bn.running_mean, mean0));
  EXPECT_TRUE(test::bitwise_equal(bn.running_var, var0));
  EXPECT_EQ(bn.num_batches_tracked.item(), 0);
  // Batch statistics were used: the output is normalised (mean ~0, not ~2/sqrt(1+eps)).
  EXPECT_NEAR(ops::mean(y).item(), 0.0, 1e-5);
  bn.forward(x);  // not frozen: the buffers move
  EXPECT_FALSE(test::bitwise_equal(bn.running_mean, mean0));
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
}

// PreciseBN: the running statistics become the plain mean over the passes of
// the batch means and unbiased batch variances (computed here in double), in
// a BatchNorm nested two Sequentials deep; mode, momentum and the counter
// are restored, and no graph is built.
TEST(BatchNorm, PreciseStatisticsAreTheMeanOfTheBatchStatistics) {
  Generator gen(5);
  auto bn = std::make_shared<nn::BatchNorm2d>(2);
  nn::Sequential net{std::make_shared<nn::Sequential>(
      std::initializer_list<std::shared_ptr<nn::Module>>{bn, std::make_shared<nn::ReLU>()})};
  std::vector<Tensor> batches;
  for (int t = 0; t < 3; ++t) {
    Tensor x = Tensor::empty({3, 2, 4, 5});
    gen.normal_(x, 1.0 + t, 2.0 + t);
    batches.push_back(x.set_requires_grad());
  }
  bn->forward(batches[0].detach());  // some history the recomputation must discard
  bn->num_batches_tracked.data<int64_t>()[0] = 7;
  net.eval();
  nn::precise_batchnorm(net, 3, [&](int64_t t) { return batches[size_t(t)]; });
  EXPECT_FALSE(net.is_training());
  EXPECT_EQ(bn->momentum, 0.1);
  EXPECT_EQ(bn->num_batches_tracked.item(), 7);
  EXPECT_FALSE(batches[0].grad().defined());
  const auto rm = bn->running_mean.to_vector<float>(), rv = bn->running_var.to_vector<float>();
  for (int c = 0; c < 2; ++c) {
    double mean_of_means = 0, mean_of_vars = 0;
    for (const Tensor& x : batches) {
      const auto v = x.to_vector<float>();
      double s = 0, ss = 0;
      int64_t m = 0;
      for (int64_t n = 0; n < 3; ++n) {
        for (int64_t i = 0; i < 20; ++i) {
          const double a = v[size_t((n * 2 + c) * 20 + i)];
          s += a;
          ss += a * a;
          ++m;
        }
      }
      const double mu = s / double(m);
      mean_of_means += mu / 3.0;
      mean_of_vars += (ss - double(m) * mu * mu) / double(m - 1) / 3.0;
    }
    EXPECT_NEAR(rm[size_t(c)], mean_of_means, 1e-5) << c;
    EXPECT_NEAR(rv[size_t(c)], mean_of_vars, 1e-4 * mean_of_vars) << c;
  }
  EXPECT_THROW(nn::precise_batchnorm(net, 0, [&](int64_t) { return batches[0]; }), Error);
}

// The tiny CNN with PyTorch's initial weights: training-mode logits, loss,
// every parameter gradient, the running statistics after the step, and the
// eval-mode logits all match torch.nn.
TEST(Sequential, TinyCnnMatchesTorchNn) {
  test::Fixture f("nn_small");
  const std::string c = "case0";
  Generator gen(0);
  auto net = test::tiny_cnn(gen);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : net->state_dict()) state[name] = f.get(c, "state." + name);
  net->load_state_dict(state);
  Tensor logits = net->forward(f.get(c, "x"));
  Tensor loss = ops::cross_entropy(logits, f.get(c, "labels"));
  loss.backward();
  // float32 through three conv+BN layers; BN divides by small batch std, so
  // errors of a few 1e-7 grow to ~1e-6.
  test::expect_fixture("nn_small", c, "logits", logits, f.get(c, "logits"), 1e-5, 1e-4);
  test::expect_fixture("nn_small", c, "loss", loss, f.get(c, "loss"), 1e-5, 1e-4);
  for (auto& [name, p] : net->named_parameters()) {
    test::expect_fixture("nn_small", c, "grad." + name, p.grad(), f.get(c, "grad." + name), 1e-5,
                         1e-3);
  }
  for (auto& [name, b] : net->named_buffers()) {
    test::expect_fixture("nn_small", c, "after." + name, b, f.get(c, "after." + name), 1e-6, 1e-5);
  }
  net->eval();
  NoGradGuard no_grad;
  test::expect_fixture("nn_small", c, "eval_logits", net->forward(f.get(c, "x")),
                       f.get(c, "eval_logits"), 1e-5, 1e-4);
}

}  // namespace
}  // namespace medtex
