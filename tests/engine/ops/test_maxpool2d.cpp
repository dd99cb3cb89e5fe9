#include <cmath>
#include <limits>
#include <numeric>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/rng.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

// Distinct values: a random permutation of 0 .. n-1, scaled to steps of 0.01
// and centred. No two inputs are within 2 * eps of each other, so the
// finite-difference perturbation never changes which element wins a window.
Tensor distinct_double(const Shape& shape, uint64_t seed) {
  const int64_t n = numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  Generator g(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[size_t(i)], v[g.next_below(uint64_t(i + 1))]);
  for (double& e : v) e = (e - double(n) / 2) * 0.01;
  return Tensor::from_vector(v, shape);
}

::testing::AssertionResult check_grad(const Shape& shape, int k, int s, int p) {
  Tensor x = distinct_double(shape, 3).set_requires_grad();
  return test::gradcheck(
      [&](const std::vector<Tensor>& in) { return ops::maxpool2d(in[0], k, s, p); }, {x});
}

TEST(MaxPool2d, GradcheckDouble) {
  EXPECT_TRUE(check_grad({3, 5, 7, 9}, 3, 2, 1));  // the ResNet stem: overlapping, padded
  EXPECT_TRUE(check_grad({1, 2, 7, 9}, 2, 2, 0));  // odd sizes, floor mode drops a row/column
  EXPECT_TRUE(check_grad({2, 3, 6, 5}, 3, 1, 1));  // stride 1: each input in up to 9 windows
  EXPECT_TRUE(check_grad({1, 1, 5, 5}, 5, 1, 2));  // large padding, kernel = input size
}

TEST(MaxPool2d, MatchesPyTorch) {
  test::Fixture f("maxpool2d");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y =
        ops::maxpool2d(x, p["kernel"].get<int>(), p["stride"].get<int>(), p["padding"].get<int>());
    y.backward(f.get(c, "grad_y"));
    // Exact: the max selects a value, and the gradient sums land in the same
    // input in the same (output) order as in PyTorch's CPU kernel.
    test::expect_fixture("maxpool2d", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("maxpool2d", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

TEST(MaxPool2d, TiesGoToTheFirstMaximum) {
  // All equal: every 2x2 window (stride 1) picks its top-left element.
  Tensor x = Tensor::zeros({1, 1, 3, 3}).set_requires_grad();
  Tensor y = ops::maxpool2d(x, 2, 1);
  y.backward(Tensor::ones(y.shape()));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 1, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(MaxPool2d, PaddingIsMinusInfinity) {
  // A window of -inf values (and padding) still outputs -inf, not a padded 0,
  // and its gradient goes to a real input.
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = Tensor::from_vector(std::vector<float>{-inf, -inf, -inf, -inf}, {1, 1, 2, 2});
  x.set_requires_grad();
  Tensor y = ops::maxpool2d(x, 3, 2, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(y.item(), -inf);
  y.backward(Tensor::ones(y.shape()));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 0, 0, 0}));
}

TEST(MaxPool2d, NaNPropagates) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, NAN, 3, 4, 5, 6, 7, 8}, {1, 1, 2, 4});
  const auto y = ops::maxpool2d(x, 2, 2).to_vector<float>();
  ASSERT_EQ(y.size(), 2u);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 8.0f);
}

TEST(MaxPool2d, NoGradPathGivesTheSameOutput) {
  const Tensor x0 = test::random_float({2, 3, 9, 10}, 5);
  Tensor x = x0.copy().set_requires_grad();
  const Tensor y_grad = ops::maxpool2d(x, 3, 2, 1);
  NoGradGuard no_grad;
  EXPECT_TRUE(test::bitwise_equal(ops::maxpool2d(x0, 3, 2, 1), y_grad));
}

TEST(MaxPool2d, SameBitsForAnyThreadCount) {
  // Large enough to run in parallel; overlapping windows, so inputs collect
  // gradient from several outputs.
  const Tensor x0 = test::random_float({4, 16, 33, 35}, 11);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor x = x0.copy().set_requires_grad();
    Tensor y = ops::maxpool2d(x, 3, 2, 1);
    y.backward(test::random_float(y.shape(), 12));
    return {y, x.grad()};
  });
}

TEST(MaxPool2d, RejectsBadArguments) {
  const Tensor x = test::random_float({1, 1, 3, 3}, 1);
  EXPECT_THROW(ops::maxpool2d(Tensor::ones({1, 3, 3}), 2, 2), Error);  // wrong rank
  EXPECT_THROW(ops::maxpool2d(x, 4, 1, 0), Error);  // kernel larger than the input
  EXPECT_THROW(ops::maxpool2d(x, 6, 1, 1), Error);  // ... than the padded input
  EXPECT_THROW(ops::maxpool2d(x, 3, 1, 2), Error);  // padding more than half the kernel
  EXPECT_THROW(ops::maxpool2d(x, 0, 1, 0), Error);
  EXPECT_THROW(ops::maxpool2d(x, 2, 0, 0), Error);
  EXPECT_THROW(ops::maxpool2d(x, 2, 1, -1), Error);
  EXPECT_NO_THROW(ops::maxpool2d(x, 5, 1, 1));  // 3 + 2 * 1 = 5: exactly fits
}

}  // namespace
}  // namespace medtex
