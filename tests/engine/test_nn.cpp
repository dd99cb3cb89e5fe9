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
