#include <cmath>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/explain/saliency.h"
#include "models/resnet18.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

// logits = W flatten(x) + b in double: the gradient of logit c is row c of W.
class LinearNet : public nn::Module {
 public:
  LinearNet(int64_t in, int64_t classes, uint64_t seed) {
    w = register_parameter("w", test::random_double({classes, in}, seed).set_requires_grad());
    b = register_parameter("b", test::random_double({classes}, seed + 1).set_requires_grad());
  }
  Tensor forward(const Tensor& x) override { return ops::linear(ops::flatten(x, 1), w, b); }
  Tensor w, b;
};

// max over channels of |(f(x + eps e) - f(x - eps e)) / (2 eps)|, f = logit c.
std::vector<double> finite_difference_saliency(nn::Module& net, const Tensor& x,
                                               const std::vector<int64_t>& classes) {
  NoGradGuard no_grad;
  const int64_t n = x.size(0), ch = x.size(1), hw = x.size(2) * x.size(3);
  const int64_t c_count = net.forward(x).size(1);
  std::vector<double> out(size_t(n * hw), 0.0);
  const double eps = 1e-6;
  for (int64_t i = 0; i < x.numel(); ++i) {
    Tensor plus = x.copy(), minus = x.copy();
    plus.data<double>()[i] += eps;
    minus.data<double>()[i] -= eps;
    const auto fp = net.forward(plus).to_vector<double>();
    const auto fm = net.forward(minus).to_vector<double>();
    const int64_t img = i / (ch * hw), pix = i % hw;
    const int64_t c = classes[size_t(img)];
    const double g =
        std::abs(fp[size_t(img * c_count + c)] - fm[size_t(img * c_count + c)]) / (2 * eps);
    double& slot = out[size_t(img * hw + pix)];
    slot = std::max(slot, g);
  }
  return out;
}

TEST(GradientSaliency, EqualsFiniteDifferencesOnALinearModel) {
  LinearNet net(2 * 4 * 4, 3, 1);
  const Tensor x = test::random_double({2, 2, 4, 4}, 3);
  std::vector<int64_t> predicted;
  {
    NoGradGuard no_grad;
    predicted = ops::argmax(net.forward(x), 1).to_vector<int64_t>();
  }
  const Tensor map = explain::saliency_map(net, x);
  EXPECT_EQ(map.shape(), (Shape{2, 4, 4}));
  const auto fd = finite_difference_saliency(net, x, predicted);
  const auto got = map.to_vector<double>();
  // Central differences on a linear function are exact up to rounding:
  // |f| ~ 1 over eps = 1e-6 leaves ~1e-10.
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], fd[i], 1e-8) << i;
  // And the closed form: max over channels of |W[c, ch, pixel]|.
  const auto w = net.w.to_vector<double>();
  for (int64_t img = 0; img < 2; ++img) {
    for (int64_t p = 0; p < 16; ++p) {
      const int64_t c = predicted[size_t(img)];
      const double expected =
          std::max(std::abs(w[size_t(c * 32 + p)]), std::abs(w[size_t(c * 32 + 16 + p)]));
      EXPECT_NEAR(got[size_t(img * 16 + p)], expected, 1e-15);
    }
  }
  // Another class on request.
  const Tensor other = Tensor::from_vector(
      std::vector<int64_t>{(predicted[0] + 1) % 3, (predicted[1] + 2) % 3}, {2});
  const auto fd_other =
      finite_difference_saliency(net, x, {(predicted[0] + 1) % 3, (predicted[1] + 2) % 3});
  const auto got_other = explain::saliency_map(net, x, other).to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got_other[i], fd_other[i], 1e-8) << i;
  EXPECT_THROW(explain::saliency_map(net, x, Tensor::from_vector(std::vector<int64_t>{0, 3}, {2})),
               Error);
}

TEST(GradientSaliency, PatchScoresAreSumsAndTheTeacherIsLeftAlone) {
  LinearNet net(3 * 8 * 8, 4, 5);
  const Tensor x = test::random_double({3, 3, 8, 8}, 6);
  const auto map = explain::saliency_map(net, x).to_vector<double>();
  const Tensor scores = explain::gradient_saliency(net, x, 4, /*batch_size=*/2);
  EXPECT_EQ(scores.shape(), (Shape{3, 4}));
  EXPECT_EQ(scores.dtype(), DType::F32);
  const auto s = scores.to_vector<float>();
  for (int img = 0; img < 3; ++img) {
    for (int pr = 0; pr < 2; ++pr) {
      for (int pc = 0; pc < 2; ++pc) {
        double sum = 0;
        for (int i = 0; i < 4; ++i) {
          for (int j = 0; j < 4; ++j) sum += map[size_t(img * 64 + (4 * pr + i) * 8 + 4 * pc + j)];
        }
        EXPECT_NEAR(s[size_t(img * 4 + pr * 2 + pc)], sum, 1e-5 * sum);
      }
    }
  }
  // No gradient left in the teacher, which stays trainable and in its mode.
  EXPECT_FALSE(net.w.grad().defined());
  EXPECT_TRUE(net.w.requires_grad());
  EXPECT_TRUE(net.is_training());
  {
    NoGradGuard no_grad;
    EXPECT_THROW(explain::saliency_map(net, x), Error);
  }
  EXPECT_THROW(explain::gradient_saliency(net, x, 3), Error);  // 8 is not in 3x3 patches
}

// BatchNorm in eval mode: an image's saliency does not depend on the others
// in its batch (in train mode it would, through the batch statistics).
TEST(GradientSaliency, ResNetPerImageAndBatchIndependent) {
  Generator gen(9);
  models::ResNet18 net(3, 0.125, gen);
  const Tensor x = test::random_float({4, 3, 32, 32}, 10);
  net.train();
  const Tensor all = explain::gradient_saliency(net, x, 8, /*batch_size=*/4);
  const Tensor ones = explain::gradient_saliency(net, x, 8, /*batch_size=*/1);
  EXPECT_EQ(all.shape(), (Shape{4, 16}));
  EXPECT_TRUE(test::all_close(all, ones, 1e-6, 1e-4));
  EXPECT_TRUE(net.is_training());
  for (auto& [name, p] : net.named_parameters()) {
    EXPECT_FALSE(p.grad().defined()) << name;
    EXPECT_TRUE(p.requires_grad()) << name;
  }
  for (float v : all.to_vector<float>()) EXPECT_GE(v, 0.0f);
}

}  // namespace
}  // namespace medtex
