#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

::testing::AssertionResult check_grad(const Shape& shape, int k, int s, int p) {
  Tensor x = test::random_double(shape, 3).set_requires_grad();
  return test::gradcheck(
      [&](const std::vector<Tensor>& in) { return ops::avgpool2d(in[0], k, s, p); }, {x});
}

TEST(AvgPool2d, GradcheckDouble) {
  EXPECT_TRUE(check_grad({3, 5, 7, 9}, 3, 2, 1));  // overlapping, padded
  EXPECT_TRUE(check_grad({1, 2, 7, 9}, 2, 2, 0));  // odd sizes, floor mode
  EXPECT_TRUE(check_grad({2, 3, 5, 6}, 3, 1, 1));  // stride 1
}

TEST(AvgPool2d, MatchesPyTorch) {
  test::Fixture f("avgpool2d");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y =
        ops::avgpool2d(x, p["kernel"].get<int>(), p["stride"].get<int>(), p["padding"].get<int>());
    y.backward(f.get(c, "grad_y"));
    // Exact: the same float sums in the same row-major order, and the same
    // division by kernel * kernel, as PyTorch's CPU kernel.
    test::expect_fixture("avgpool2d", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("avgpool2d", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

TEST(AvgPool2d, PaddingCountsInTheDivisor) {
  // count_include_pad = true: each 3x3 window holds the 4 ones and 5 padded
  // zeros, so every output is 4/9, not 1.
  Tensor x = Tensor::ones({1, 1, 2, 2}).set_requires_grad();
  Tensor y = ops::avgpool2d(x, 3, 1, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  for (float v : y.to_vector<float>()) EXPECT_FLOAT_EQ(v, 4.0f / 9.0f);
  y.backward(Tensor::ones(y.shape()));
  for (float g : x.grad().to_vector<float>()) EXPECT_FLOAT_EQ(g, 4.0f / 9.0f);
}

TEST(AvgPool2d, SameBitsForAnyThreadCount) {
  const Tensor x0 = test::random_float({4, 16, 33, 35}, 11);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor x = x0.copy().set_requires_grad();
    Tensor y = ops::avgpool2d(x, 3, 2, 1);
    y.backward(test::random_float(y.shape(), 12));
    return {y, x.grad()};
  });
}

TEST(AvgPool2d, RejectsBadArguments) {
  const Tensor x = test::random_float({1, 1, 3, 3}, 1);
  EXPECT_THROW(ops::avgpool2d(Tensor::ones({3, 3}), 2, 2), Error);  // wrong rank
  EXPECT_THROW(ops::avgpool2d(x, 4, 1, 0), Error);                  // kernel larger than the input
  EXPECT_THROW(ops::avgpool2d(x, 6, 1, 1), Error);                  // ... than the padded input
  EXPECT_THROW(ops::avgpool2d(x, 3, 1, 2), Error);  // padding more than half the kernel
  EXPECT_THROW(ops::avgpool2d(x, 0, 1, 0), Error);
  EXPECT_THROW(ops::avgpool2d(x, 2, 0, 0), Error);
}

}  // namespace
}  // namespace medtex
