#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "models/explainer.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Explainer, DefaultIsThreeStagesOf32ChannelsAndAnEightByEightGrid) {
  Generator gen(1);
  models::Explainer net(8, 1.0, gen);
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                      "conv3.weight", "conv3.bias", "head.weight", "head.bias"}));
  EXPECT_EQ(net.channels(), 32);
  // 3*32*9 + 32, twice 32*32*9 + 32, then the 1x1 head 32 + 1.
  EXPECT_EQ(net.num_parameters(), 896 + 2 * 9248 + 33);
  EXPECT_TRUE(net.named_buffers().empty());
  EXPECT_EQ(net.forward(test::random_float({2, 3, 64, 64}, 2)).shape(), (Shape{2, 64}));
}

TEST(Explainer, PatchSizesAndImageShapes) {
  Generator gen(2);
  for (int patch : {1, 2, 4, 8, 16}) {
    models::Explainer net(patch, 0.25, gen);
    EXPECT_EQ(int(net.convs.size()), patch == 1 ? 0 : int(std::log2(patch))) << patch;
    const int g = 32 / patch;
    EXPECT_EQ(net.forward(test::random_float({3, 3, 32, 32}, 3)).shape(), (Shape{3, g * g}))
        << "patch " << patch;
  }
  models::Explainer rect(8, 0.5, gen, /*in_channels=*/1);
  EXPECT_EQ(rect.channels(), 16);
  EXPECT_EQ(rect.forward(test::random_float({2, 1, 32, 64}, 4)).shape(), (Shape{2, 4 * 8}));
  EXPECT_EQ(models::patch_count(8, 64, 64), 64);
}

TEST(Explainer, RejectsBadPatchesAndImagesThatDoNotSplit) {
  Generator gen(3);
  EXPECT_NE(error_of([&] { models::Explainer(6, 1.0, gen); }).find("power of two"),
            std::string::npos);
  EXPECT_THROW(models::Explainer(0, 1.0, gen), Error);
  models::Explainer net(8, 0.25, gen);
  const std::string msg = error_of([&] { net.forward(test::random_float({1, 3, 60, 60}, 5)); });
  EXPECT_NE(msg.find("60x60"), std::string::npos) << msg;
  EXPECT_NE(msg.find("8x8 patches"), std::string::npos) << msg;
  EXPECT_THROW(net.forward(test::random_float({1, 1, 64, 64}, 5)), Error);  // channels
}

// The logits are row-major over the grid: a 1-patch explainer whose head
// weight picks channel 0 returns the input's pixels in raster order.
TEST(Explainer, LogitOrderIsRowMajor) {
  Generator gen(4);
  models::Explainer net(1, 1.0, gen, 1);
  net.head->weight.fill_(1.0);
  net.head->bias.fill_(0.0);
  Tensor x = test::random_float({1, 1, 3, 5}, 6);
  NoGradGuard no_grad;
  EXPECT_EQ(net.forward(x).to_vector<float>(), x.to_vector<float>());
}

}  // namespace
}  // namespace medtex
