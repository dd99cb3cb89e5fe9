#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(Reshape, GradcheckDouble) {
  Tensor x = test::random_double({2, 3, 5}, 1).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::reshape(in[0], {5, -1}); }, {x}));
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::flatten(in[0], 1); }, {x}));
  // A reshape inside a longer chain: the view's gradient must reach x in its own shape.
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) {
        return ops::mul(ops::reshape(in[0], {3, 10}), ops::reshape(in[0], {3, 10}));
      },
      {x}));
}

TEST(Reshape, MatchesPyTorch) {
  test::Fixture f("reshape");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = p.contains("start_dim") ? ops::flatten(x, p["start_dim"].get<int>())
                                       : ops::reshape(x, p["shape"].get<std::vector<int64_t>>());
    y.backward(f.get(c, "grad_y"));
    // Exact: a view moves no bits.
    test::expect_fixture("reshape", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("reshape", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

TEST(Reshape, RejectsBadShapes) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(ops::reshape(x, {4, -1}), Error);
  EXPECT_THROW(ops::flatten(x, 2), Error);
}

}  // namespace
}  // namespace medtex
