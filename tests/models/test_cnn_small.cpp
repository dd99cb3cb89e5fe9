#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "models/cnn_small.h"
#include "tests/models/model_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(CnnSmall, NamesAndParameterCount) {
  Generator gen(1);
  models::CnnSmall net(5, 1.0, gen);
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                       "bn2.bias", "conv3.weight", "bn3.weight", "bn3.bias", "conv4.weight",
                       "bn4.weight", "bn4.bias", "fc.weight", "fc.bias"}));
  const auto sd = net.state_dict();
  EXPECT_EQ(sd.size(), 14u + 12u);
  EXPECT_EQ(sd.at("conv4.weight").shape(), (Shape{128, 64, 3, 3}));
  EXPECT_TRUE(sd.count("bn3.num_batches_tracked"));
  // Convolutions 3*16*9 + 16*32*9 + 32*64*9 + 64*128*9, BN 2 * (16+32+64+128),
  // head 128*5 + 5.
  EXPECT_EQ(net.num_parameters(), 97200 + 480 + 645);
  EXPECT_EQ(net.widths(), (std::array<int, 4>{16, 32, 64, 128}));
  EXPECT_EQ(models::CnnSmall(5, 0.5, gen).widths(), (std::array<int, 4>{8, 16, 32, 64}));
  EXPECT_EQ(models::CnnSmall(5, 0.3, gen).widths(), (std::array<int, 4>{5, 10, 19, 38}));
}

TEST(CnnSmall, OutputShapes) {
  Generator gen(2);
  for (double width : {0.25, 1.0, 2.0}) {
    models::CnnSmall net(7, width, gen);
    for (int size : {16, 33, 64}) {
      Tensor y = net.forward(test::random_float({3, 3, size, size}, uint64_t(size)));
      EXPECT_EQ(y.shape(), (Shape{3, 7})) << "width " << width << " size " << size;
    }
  }
  models::CnnSmall gray(2, 0.5, gen, 1);
  EXPECT_EQ(gray.forward(test::random_float({2, 1, 32, 48}, 3)).shape(), (Shape{2, 2}));
  EXPECT_THROW(gray.forward(test::random_float({2, 1, 8, 8}, 3)), Error);    // too small
  EXPECT_THROW(gray.forward(test::random_float({2, 3, 32, 32}, 3)), Error);  // channels
}

// A torch.nn twin with the same names: eval logits, a train-mode forward with
// cross-entropy and backward (every parameter gradient), running statistics.
TEST(CnnSmall, MatchesTorchNnTwin) {
  test::Fixture f("cnn_small");
  const std::string c = "width0.3";
  const auto params = f.params(c);
  Generator gen(3);
  models::CnnSmall net(params["num_classes"].get<int>(), params["width"].get<double>(), gen);
  const auto widths = params["widths"].get<std::vector<int>>();
  EXPECT_EQ(std::vector<int>(net.widths().begin(), net.widths().end()), widths);
  const auto state = test::fixture_state("cnn_small", c);
  std::set<std::string> ours, theirs;
  for (auto& [n, t] : net.state_dict()) ours.insert(n);
  for (auto& [n, t] : state) theirs.insert(n);
  EXPECT_EQ(ours, theirs);
  net.load_state_dict(state);

  const Tensor x = f.get(c, "x");
  net.eval();
  {
    NoGradGuard no_grad;
    // float32 through four conv + BN layers, summed in another order than
    // PyTorch's: a few ulp per layer on O(1) logits.
    test::expect_fixture("cnn_small", c, "eval_logits", net.forward(x), f.get(c, "eval_logits"),
                         1e-5, 1e-4);
  }
  net.train();
  Tensor logits = net.forward(x);
  Tensor loss = ops::cross_entropy(logits, f.get(c, "labels"));
  loss.backward();
  // Train mode divides by batch standard deviations (the last block's comes
  // from 4 images x 2x2 pixels), which amplifies rounding a little.
  test::expect_fixture("cnn_small", c, "train_logits", logits, f.get(c, "train_logits"), 5e-5,
                       1e-4);
  test::expect_fixture("cnn_small", c, "loss", loss, f.get(c, "loss"), 5e-5, 1e-4);
  for (auto& [name, p] : net.named_parameters()) {
    // Gradients pass back through the same BN divisions; some are O(1e-3),
    // hence the absolute floor.
    test::expect_fixture("cnn_small", c, "grad." + name, p.grad(), f.get(c, "grad." + name), 5e-5,
                         1e-3);
  }
  for (auto& [name, b] : net.named_buffers()) {
    if (b.dtype() == DType::I64) {
      EXPECT_EQ(b.item(), f.get(c, "after." + name).item()) << name;
    } else {
      test::expect_fixture("cnn_small", c, "after." + name, b, f.get(c, "after." + name), 1e-6,
                           1e-5);
    }
  }
}

}  // namespace
}  // namespace medtex
