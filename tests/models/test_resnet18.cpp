#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "models/resnet18.h"
#include "models/width.h"
#include "tests/models/model_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

// torchvision's names, listed the way torchvision.models.resnet18() builds them.
std::vector<std::string> torchvision_parameter_names() {
  std::vector<std::string> n = {"conv1.weight", "bn1.weight", "bn1.bias"};
  for (int layer = 1; layer <= 4; ++layer) {
    for (int block = 0; block < 2; ++block) {
      const std::string p = "layer" + std::to_string(layer) + "." + std::to_string(block) + ".";
      for (const char* s :
           {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"}) {
        n.push_back(p + s);
      }
      if (layer > 1 && block == 0) {
        for (const char* s : {"downsample.0.weight", "downsample.1.weight", "downsample.1.bias"}) {
          n.push_back(p + s);
        }
      }
    }
  }
  n.push_back("fc.weight");
  n.push_back("fc.bias");
  return n;
}

TEST(ResNet18, TorchvisionParameterNamesInOrder) {
  Generator gen(1);
  models::ResNet18 net(1000, 1.0, gen);
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, torchvision_parameter_names());
  const auto sd = net.state_dict();
  // 62 parameters + 20 BatchNorms x (running_mean, running_var, num_batches_tracked).
  EXPECT_EQ(sd.size(), 62u + 60u);
  for (const char* b : {"bn1.running_mean", "layer2.0.downsample.1.running_var",
                        "layer4.1.bn2.num_batches_tracked"}) {
    EXPECT_TRUE(sd.count(b)) << b;
  }
  EXPECT_EQ(sd.at("layer2.0.downsample.0.weight").shape(), (Shape{128, 64, 1, 1}));
  EXPECT_EQ(sd.at("conv1.weight").shape(), (Shape{64, 3, 7, 7}));
  EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{1000, 512}));
  EXPECT_FALSE(net.layer1->children()[0].second->state_dict().count("downsample.0.weight"));
}

TEST(ResNet18, ParameterCountIsTorchvisions) {
  Generator gen(1);
  // sum(p.numel() for p in torchvision.models.resnet18().parameters()), which
  // tools/fixtures/ops_resnet18.py prints.
  EXPECT_EQ(models::ResNet18(1000, 1.0, gen).num_parameters(), 11689512);
  // With 5 classes only the head shrinks: 512 * 995 + 995 fewer.
  EXPECT_EQ(models::ResNet18(5, 1.0, gen).num_parameters(), 11689512 - 512 * 995 - 995);
}

TEST(ResNet18, WidthRounding) {
  EXPECT_EQ(models::scaled_width(64, 0.5), 32);
  EXPECT_EQ(models::scaled_width(64, 0.1), 6);      // 6.4
  EXPECT_EQ(models::scaled_width(128, 0.1), 13);    // 12.8
  EXPECT_EQ(models::scaled_width(16, 0.03125), 1);  // 0.5 rounds away from zero
  EXPECT_EQ(models::scaled_width(16, 0.01), 1);     // never below 1
  EXPECT_THROW(models::scaled_width(64, 0.0), Error);
  EXPECT_THROW(models::scaled_width(64, -1.0), Error);
  Generator gen(2);
  models::ResNet18 net(5, 0.1, gen);
  EXPECT_EQ(std::vector<int>(net.widths(), net.widths() + 4), (std::vector<int>{6, 13, 26, 51}));
  EXPECT_EQ(net.layer3->state_dict().at("0.downsample.0.weight").shape(), (Shape{26, 13, 1, 1}));
}

TEST(ResNet18, OutputShapesAcrossWidthsAndSizes) {
  Generator gen(3);
  for (double width : {0.0625, 0.25, 0.5}) {
    models::ResNet18 net(5, width, gen);
    for (int size : {32, 64, 71}) {
      Tensor x = test::random_float({2, 3, size, size}, uint64_t(size));
      net.train();
      Tensor y = net.forward(x);
      EXPECT_EQ(y.shape(), (Shape{2, 5})) << "width " << width << " size " << size;
      net.eval();
      EXPECT_EQ(net.forward(x).shape(), (Shape{2, 5}));
    }
  }
  models::ResNet18 gray(3, 0.125, gen, /*in_channels=*/1);
  EXPECT_EQ(gray.forward(test::random_float({1, 1, 64, 64}, 4)).shape(), (Shape{1, 3}));
  EXPECT_THROW(gray.forward(test::random_float({1, 3, 64, 64}, 4)), Error);
}

TEST(ResNet18, TorchvisionInitialisation) {
  Generator gen(5);
  models::ResNet18 net(5, 1.0, gen);
  // kaiming_normal(fan_out): std sqrt(2 / (out * k * k)); layer4.0.conv2 is [512, 512, 3, 3].
  const auto w = net.layer4->state_dict().at("0.conv2.weight").to_vector<float>();
  double s2 = 0;
  for (float v : w) s2 += double(v) * v;
  const double expected = 2.0 / (512 * 9);
  EXPECT_NEAR(s2 / double(w.size()), expected, 0.02 * expected);
  EXPECT_EQ(net.bn1->weight.to_vector<float>(), std::vector<float>(64, 1.0f));
  EXPECT_EQ(net.bn1->bias.to_vector<float>(), std::vector<float>(64, 0.0f));
  // fc: torch.nn.Linear's default, U(-1/sqrt(512), 1/sqrt(512)).
  for (float v : net.fc->weight.to_vector<float>()) EXPECT_LE(std::abs(v), 1.0 / std::sqrt(512.0));
}

// torchvision's own ResNet-18 (at width 0.1), its state dict loaded by name:
// eval logits, train logits, and the running statistics the train pass leaves.
TEST(ResNet18, MatchesTorchvision) {
  test::Fixture f("resnet18");
  const std::string c = "width0.1";
  const auto params = f.params(c);
  Generator gen(6);
  models::ResNet18 net(params["num_classes"].get<int>(), params["width"].get<double>(), gen);
  EXPECT_EQ(std::vector<int>(net.widths(), net.widths() + 4),
            params["widths"].get<std::vector<int>>());
  EXPECT_EQ(net.num_parameters(), params["parameters"].get<int64_t>());
  const auto state = test::fixture_state("resnet18", c);
  // Same names both ways: strict loading fails on a missing or extra tensor.
  std::set<std::string> ours, theirs;
  for (auto& [n, t] : net.state_dict()) ours.insert(n);
  for (auto& [n, t] : state) theirs.insert(n);
  EXPECT_EQ(ours, theirs);
  net.load_state_dict(state);

  const Tensor x = f.get(c, "x");
  net.eval();
  {
    NoGradGuard no_grad;
    // float32 through 17 conv + BN layers: the im2col GEMM sums in another
    // order than PyTorch's, so rounding differs at ~1e-7 relative per layer
    // and grows along the depth; logits are O(1).
    test::expect_fixture("resnet18", c, "eval_logits", net.forward(x), f.get(c, "eval_logits"),
                         1e-4, 1e-4);
  }
  net.train();
  Tensor train_logits = net.forward(x);
  // Train mode divides by the batch standard deviation, which at layer4 (2x2
  // pixels x 3 images) comes from 12 values and so amplifies rounding more.
  test::expect_fixture("resnet18", c, "train_logits", train_logits, f.get(c, "train_logits"), 2e-4,
                       2e-4);
  for (auto& [name, b] : net.named_buffers()) {
    if (b.dtype() == DType::I64) {
      EXPECT_EQ(b.item(), f.get(c, "after." + name).item()) << name;
    } else {
      test::expect_fixture("resnet18", c, "after." + name, b, f.get(c, "after." + name), 1e-5,
                           1e-4);
    }
  }
}

// Grad-CAM's split (medtex/explain/grad_cam.h): features is layer4's output
// (or an earlier stage's), head the rest, the pool and fc, and
// head(features(x)) is forward(x) bit for bit.
TEST(ResNet18, FeaturesThenHeadIsForward) {
  Generator gen(11);
  models::ResNet18 net(5, 0.125, gen);
  net.eval();
  for (int size : {32, 64, 71}) {
    const Tensor x = test::random_float({2, 3, size, size}, uint64_t(size) + 1);
    NoGradGuard no_grad;
    const Tensor f = net.features(x);
    const int64_t cells = size == 32 ? 1 : size == 64 ? 2 : 3;
    EXPECT_EQ(f.shape(), (Shape{2, net.widths()[3], cells, cells})) << size;
    EXPECT_TRUE(test::bitwise_equal(net.head(f), net.forward(x))) << size;
  }
  // Gradients flow through the split as through forward.
  Tensor x = test::random_float({1, 3, 32, 32}, 12).set_requires_grad();
  ops::sum(net.head(net.features(x))).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_TRUE(net.fc->weight.grad().defined());
  EXPECT_THROW(net.head(Tensor::zeros({1, 3, 2, 2})), Error);  // not layer4's width
  EXPECT_THROW(net.features(Tensor::zeros({1, 1, 32, 32})), Error);

  // Split after any stage: layer s's output at 64 px is 16 / 2^(s-1) wide.
  const Tensor x64 = test::random_float({2, 3, 64, 64}, 13);
  NoGradGuard no_grad;
  const Tensor full = net.forward(x64);
  for (int stage = 1; stage <= 4; ++stage) {
    const Tensor f = net.features(x64, stage);
    const int64_t cells = 16 >> (stage - 1);
    EXPECT_EQ(f.shape(), (Shape{2, net.widths()[stage - 1], cells, cells})) << stage;
    EXPECT_TRUE(test::bitwise_equal(net.head(f, stage), full)) << stage;
  }
  EXPECT_THROW(net.head(net.features(x64, 3)), Error);  // layer3's maps into layer4's head
  EXPECT_THROW(net.features(x64, 0), Error);
  EXPECT_THROW(net.features(x64, 5), Error);
}

}  // namespace
}  // namespace medtex
