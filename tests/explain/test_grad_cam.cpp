#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "medtex/explain/grad_cam.h"
#include "medtex/explain/support.h"
#include "models/resnet18.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

// Feature maps [1, 3, 4, 4]: channel 0 is zero but for a blob at (1, 2) with
// its neighbour (1, 3) weaker; channels 1 and 2 are small noise everywhere.
// Head: global average pool, then W = [[1, 0, 0], [0, 1, 1]]: class 0 is
// driven by channel 0 alone.
struct OneMapCase {
  Tensor a, w;
  OneMapCase() {
    std::vector<double> v(48, 0.0);
    v[1 * 4 + 2] = 5.0;
    v[1 * 4 + 3] = 2.0;
    Generator gen(1);
    Tensor noise = Tensor::empty({32}, DType::F64);
    gen.uniform_(noise, 0.0, 0.1);
    const auto nv = noise.to_vector<double>();
    std::copy(nv.begin(), nv.end(), v.begin() + 16);
    a = Tensor::from_vector(v, {1, 3, 4, 4});
    w = Tensor::from_vector(std::vector<double>{1, 0, 0, 0, 1, 1}, {2, 3});
  }
  Tensor head(const Tensor& f) const { return ops::linear(ops::global_avgpool(f), w, Tensor()); }
};

TEST(GradCam, OneFeatureMapDrivesTheClass) {
  OneMapCase c;
  const Tensor cam = explain::grad_cam_map(c.a, [&](const Tensor& f) { return c.head(f); });
  ASSERT_EQ(cam.shape(), (Shape{1, 4, 4}));
  const auto v = cam.to_vector<double>();
  // The predicted class is 0 (logit mean(A_0) = 7/16 against at most 0.2):
  // alpha = (1/16, 0, 0), so cam = A_0 / 16 exactly.
  const auto a0 = c.a.to_vector<double>();
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(v[size_t(i)], a0[size_t(i)] / 16.0, 1e-15) << i;
  EXPECT_EQ(std::max_element(v.begin(), v.end()) - v.begin(), 1 * 4 + 2);
  // On the patch grid of the image (here 4x4 patches over a 4x4 map: the identity).
  const auto grid = explain::resize_to_grid(cam, 4, 4).to_vector<float>();
  EXPECT_EQ(std::max_element(grid.begin(), grid.end()) - grid.begin(), 1 * 4 + 2);
  // A 2x2 grid: area averages; the blob's quadrant (top right) wins.
  const auto coarse = explain::resize_to_grid(cam, 2, 2).to_vector<float>();
  EXPECT_EQ(std::max_element(coarse.begin(), coarse.end()) - coarse.begin(), 1);
  EXPECT_NEAR(coarse[1], (5.0 + 2.0) / 16.0 / 4.0, 1e-7);
}

TEST(GradCam, OtherClassAndTheRelu) {
  OneMapCase c;
  // Class 1: alpha = (0, 1/16, 1/16), cam = (A_1 + A_2) / 16: nothing at the blob.
  const Tensor cls = Tensor::from_vector(std::vector<int64_t>{1}, {1});
  const auto v = explain::grad_cam_map(
                     c.a, [&](const Tensor& f) { return c.head(f); }, cls)
                     .to_vector<double>();
  const auto a = c.a.to_vector<double>();
  for (int i = 0; i < 16; ++i)
    EXPECT_NEAR(v[size_t(i)], (a[size_t(16 + i)] + a[size_t(32 + i)]) / 16, 1e-15);
  // A head that weighs channel 0 negatively for class 0 and predicts class 0
  // from a bias: the blob lowers the score, and the ReLU removes it.
  const Tensor w = Tensor::from_vector(std::vector<double>{-1, 0, 0, 0, 1, 1}, {2, 3});
  const Tensor b = Tensor::from_vector(std::vector<double>{10, 0}, {2});
  const auto neg = explain::grad_cam_map(c.a, [&](const Tensor& f) {
                     return ops::linear(ops::global_avgpool(f), w, b);
                   }).to_vector<double>();
  for (double x : neg) EXPECT_EQ(x, 0.0);
}

TEST(GradCam, ResNet18ShapesAndTheTeacherLeftAlone) {
  Generator gen(2);
  models::ResNet18 net(5, 0.125, gen);
  const Tensor x = test::random_float({3, 3, 64, 64}, 3);
  net.train();
  Tensor feats;
  {
    NoGradGuard no_grad;
    net.eval();
    feats = net.features(x);
    net.train();
  }
  EXPECT_EQ(feats.shape(), (Shape{3, net.widths()[3], 2, 2}));

  const Tensor s8 = explain::grad_cam(net, x, 8, explain::Upsample::kNearest, /*batch_size=*/2);
  EXPECT_EQ(s8.shape(), (Shape{3, 64}));
  const auto v = s8.to_vector<float>();
  // 2x2 map on an 8x8 grid, nearest: four constant 4x4 blocks per image.
  for (int img = 0; img < 3; ++img) {
    for (int r = 0; r < 8; ++r) {
      for (int col = 0; col < 8; ++col) {
        const float corner = v[size_t(img * 64 + (r / 4) * 4 * 8 + (col / 4) * 4)];
        EXPECT_EQ(v[size_t(img * 64 + r * 8 + col)], corner);
        EXPECT_GE(corner, 0.0f);
      }
    }
  }
  // The same numbers as the cam of the split net, resized.
  Tensor cam;
  {
    explain::EvalMode eval(net);
    explain::FrozenParameters frozen(net);  // grad_cam_map leaves that to its caller
    cam = explain::grad_cam_map(feats, [&](const Tensor& f) { return net.head(f); });
  }
  EXPECT_EQ(cam.shape(), (Shape{3, 2, 2}));
  EXPECT_TRUE(test::all_close(s8, explain::resize_to_grid(cam, 8, 8), 1e-6, 1e-5));

  const Tensor bil = explain::grad_cam(net, x, 8, explain::Upsample::kBilinear);
  EXPECT_EQ(bil.shape(), (Shape{3, 64}));
  EXPECT_TRUE(test::all_close(bil, explain::resize_to_grid(cam, 8, 8, explain::Upsample::kBilinear),
                              1e-6, 1e-5));
  EXPECT_EQ(explain::grad_cam(net, x, 16).shape(), (Shape{3, 16}));

  EXPECT_TRUE(net.is_training());
  for (auto& [name, p] : net.named_parameters()) {
    EXPECT_FALSE(p.grad().defined()) << name;
    EXPECT_TRUE(p.requires_grad()) << name;
  }
  EXPECT_THROW(explain::grad_cam(net, x, 6), Error);

  // On layer3 the map is 4x4 at 64 px: 2x2 blocks of equal scores on the
  // 8x8 grid, the cam of the net split after layer3.
  const Tensor s3 = explain::grad_cam(net, x, 8, explain::Upsample::kNearest, 64, /*stage=*/3);
  Tensor cam3;
  {
    explain::EvalMode eval(net);
    explain::FrozenParameters frozen(net);
    Tensor f3;
    {
      NoGradGuard no_grad;
      f3 = net.features(x, 3);
    }
    cam3 = explain::grad_cam_map(f3, [&](const Tensor& f) { return net.head(f, 3); });
  }
  EXPECT_EQ(cam3.shape(), (Shape{3, 4, 4}));
  EXPECT_TRUE(test::all_close(s3, explain::resize_to_grid(cam3, 8, 8), 1e-6, 1e-5));
  EXPECT_FALSE(test::all_close(s3, s8, 1e-6, 1e-5));
}

}  // namespace
}  // namespace medtex
