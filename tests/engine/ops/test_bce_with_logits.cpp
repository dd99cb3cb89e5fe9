#include <cmath>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

TEST(BceWithLogits, GradcheckDoubleBothArguments) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 1}, Shape{1}}) {
    // The loss is smooth in x (max(x, 0) and log1p(exp(-|x|)) have kinks at
    // 0 that cancel), so logits on both sides of 0 are fair game.
    Tensor x = test::random_double(shape, 51, -4.0, 4.0).set_requires_grad();
    Tensor y = test::random_double(shape, 52, 0.0, 1.0).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [](const std::vector<Tensor>& in) { return ops::bce_with_logits(in[0], in[1]); }, {x, y}))
        << shape;
  }
}

TEST(BceWithLogits, MatchesPyTorch) {
  test::Fixture f("bce_with_logits");
  for (const auto& c : f.cases()) {
    Tensor x = f.get(c, "logits").set_requires_grad();
    Tensor y = f.get(c, "targets").set_requires_grad();
    Tensor loss = ops::bce_with_logits(x, y);
    loss.backward(f.get(c, "grad_y"));
    // float32 both sides, ours summed in double; +-80 logits give terms up
    // to 80, so a few float ulp relative.
    test::expect_fixture("bce_with_logits", c, "loss", loss, f.get(c, "loss"), 1e-7, 1e-6);
    // (sigmoid(x) - y) / n: one float rounding of values <= 1.
    test::expect_fixture("bce_with_logits", c, "grad_logits", x.grad(), f.get(c, "grad_logits"),
                         1e-7, 1e-5);
    // -x / n exactly representable up to one rounding.
    test::expect_fixture("bce_with_logits", c, "grad_targets", y.grad(), f.get(c, "grad_targets"),
                         1e-7, 1e-6);
  }
}

TEST(BceWithLogits, LargeLogitsAreExact) {
  // exp(1000) overflows and sigmoid(-1000) underflows: the naive
  // -y log s - (1 - y) log(1 - s) would be inf or NaN here.
  Tensor x = Tensor::from_vector<float>({1000, -1000, 1000, -1000}, {4}).set_requires_grad();
  Tensor y = Tensor::from_vector<float>({1, 0, 0, 1}, {4});
  Tensor loss = ops::bce_with_logits(x, y);
  EXPECT_EQ(loss.item(), (0 + 0 + 1000 + 1000) / 4.0);
  loss.backward();
  const auto g = x.grad().to_vector<float>();
  EXPECT_EQ(g[0], 0.0f);
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_EQ(g[2], 0.25f);
  EXPECT_EQ(g[3], -0.25f);
}

TEST(BceWithLogits, KnownValueAtZero) {
  // sigmoid(0) = 1/2 whatever the target: loss log 2, gradient (1/2 - y) / n.
  Tensor x = Tensor::zeros({2}, DType::F64).set_requires_grad();
  Tensor y = Tensor::from_vector<double>({0.0, 0.3}, {2});
  Tensor loss = ops::bce_with_logits(x, y);
  EXPECT_DOUBLE_EQ(loss.item(), std::log(2.0));
  loss.backward();
  EXPECT_DOUBLE_EQ(x.grad().to_vector<double>()[0], 0.25);
  EXPECT_DOUBLE_EQ(x.grad().to_vector<double>()[1], 0.1);
}

TEST(BceWithLogits, SameBitsForAnyThreadCount) {
  const Tensor x0 = test::random_float({7, 11003}, 53, -6.0, 6.0);
  const Tensor y0 = test::random_float({7, 11003}, 54, 0.0, 1.0);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor x = x0.copy().set_requires_grad();
    Tensor y = y0.copy().set_requires_grad();
    Tensor loss = ops::bce_with_logits(x, y);
    loss.backward();
    return {loss, x.grad(), y.grad()};
  });
}

TEST(BceWithLogits, RejectsBadArguments) {
  Tensor x = test::random_float({3, 4}, 55);
  EXPECT_THROW(ops::bce_with_logits(x, test::random_float({3, 5}, 56)), Error);
  EXPECT_THROW(ops::bce_with_logits(x, test::random_float({12}, 56)), Error);  // no broadcasting
  EXPECT_THROW(ops::bce_with_logits(x, test::random_double({3, 4}, 57)), Error);
  EXPECT_THROW(ops::bce_with_logits(Tensor::zeros({0, 4}), Tensor::zeros({0, 4})), Error);
  EXPECT_THROW(
      ops::bce_with_logits(Tensor::zeros({3, 4}, DType::I64), Tensor::zeros({3, 4}, DType::I64)),
      Error);
}

}  // namespace
}  // namespace medtex
