#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

TEST(GlobalAvgPool, GradcheckDouble) {
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{1, 4, 1, 1}, Shape{2, 1, 1, 6}}) {
    Tensor x = test::random_double(shape, 3).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [](const std::vector<Tensor>& in) { return ops::global_avgpool(in[0]); }, {x}))
        << shape;
  }
}

TEST(GlobalAvgPool, MatchesPyTorch) {
  test::Fixture f("global_avgpool");
  for (const auto& c : f.cases()) {
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = ops::global_avgpool(x);
    y.backward(f.get(c, "grad_y"));
    // We sum in double, PyTorch in float: up to ~49 terms of size 1, a few
    // float ulps (1e-7) of difference in the mean.
    test::expect_fixture("global_avgpool", c, "y", y, f.get(c, "y"), 5e-7, 1e-6);
    // dy / hw, one rounding either way.
    test::expect_fixture("global_avgpool", c, "grad_x", x.grad(), f.get(c, "grad_x"), 1e-7, 1e-6);
  }
}

TEST(GlobalAvgPool, SameBitsForAnyThreadCount) {
  const Tensor x0 = test::random_float({8, 64, 9, 11}, 11);
  const Tensor gy = test::random_float({8, 64}, 12);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor x = x0.copy().set_requires_grad();
    Tensor y = ops::global_avgpool(x);
    y.backward(gy);
    return {y, x.grad()};
  });
}

TEST(GlobalAvgPool, RejectsBadArguments) {
  EXPECT_THROW(ops::global_avgpool(Tensor::ones({2, 3, 4})), Error);        // wrong rank
  EXPECT_THROW(ops::global_avgpool(Tensor::ones({2, 3, 4, 5, 6})), Error);  // wrong rank
  EXPECT_THROW(ops::global_avgpool(Tensor::ones({2, 3, 0, 5})), Error);     // nothing to average
}

}  // namespace
}  // namespace medtex
