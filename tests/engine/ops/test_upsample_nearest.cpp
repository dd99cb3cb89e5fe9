#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"
#include "tests/support/threads.h"

namespace medtex {
namespace {

TEST(UpsampleNearest, GradcheckDouble) {
  struct Case {
    Shape shape;
    int factor;
  };
  for (const Case& c : {Case{{3, 5, 7, 9}, 2}, Case{{1, 2, 3, 5}, 3}, Case{{2, 1, 2, 2}, 8},
                        Case{{1, 3, 4, 5}, 1}}) {
    Tensor x = test::random_double(c.shape, 3).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) { return ops::upsample_nearest(in[0], c.factor); }, {x}))
        << c.shape << " factor " << c.factor;
  }
}

TEST(UpsampleNearest, MatchesPyTorch) {
  test::Fixture f("upsample_nearest");
  for (const auto& c : f.cases()) {
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = ops::upsample_nearest(x, f.params(c)["factor"].get<int>());
    y.backward(f.get(c, "grad_y"));
    // Exact: the forward copies values, and the backward adds each block's
    // terms in PyTorch's (row-major) order.
    test::expect_fixture("upsample_nearest", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("upsample_nearest", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

TEST(UpsampleNearest, RepeatsEachPixel) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
  Tensor y = ops::upsample_nearest(x, 2);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 1, 2, 2, 3, 3,  //
                                                      1, 1, 2, 2, 3, 3,  //
                                                      4, 4, 5, 5, 6, 6,  //
                                                      4, 4, 5, 5, 6, 6}));
}

TEST(UpsampleNearest, SameBitsForAnyThreadCount) {
  const Tensor x0 = test::random_float({8, 3, 8, 8}, 11);
  test::expect_same_bits_across_threads([&]() -> std::vector<Tensor> {
    Tensor x = x0.copy().set_requires_grad();
    Tensor y = ops::upsample_nearest(x, 8);
    y.backward(test::random_float(y.shape(), 12));
    return {y, x.grad()};
  });
}

TEST(UpsampleNearest, RejectsBadArguments) {
  EXPECT_THROW(ops::upsample_nearest(Tensor::ones({1, 3, 3}), 2), Error);  // wrong rank
  EXPECT_THROW(ops::upsample_nearest(Tensor::ones({1, 1, 3, 3}), 0), Error);
  EXPECT_THROW(ops::upsample_nearest(Tensor::ones({1, 1, 3, 3}), -2), Error);
}

}  // namespace
}  // namespace medtex
