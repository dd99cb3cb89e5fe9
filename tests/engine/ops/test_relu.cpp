#include <cmath>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(Relu, GradcheckDouble) {
  // Values kept away from 0, where relu has no derivative.
  Tensor x = test::random_double({3, 4, 5}, 1, 0.05, 1.0);
  Tensor sign = test::random_double({3, 4, 5}, 2);
  double* v = x.data<double>();
  for (int64_t i = 0; i < x.numel(); ++i) v[i] *= sign.data<double>()[i] < 0 ? -1 : 1;
  x.set_requires_grad();
  EXPECT_TRUE(test::gradcheck([](const std::vector<Tensor>& in) { return ops::relu(in[0]); }, {x}));
}

TEST(Relu, MatchesPyTorch) {
  test::Fixture f("relu");
  for (const auto& c : f.cases()) {
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = ops::relu(x);
    y.backward(f.get(c, "grad_y"));
    // Exact: max(x, 0) and the masked copy involve no rounding.
    test::expect_fixture("relu", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("relu", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

}  // namespace
}  // namespace medtex

namespace medtex {
namespace {

TEST(Relu, PropagatesNaN) {
  Tensor x = Tensor::from_vector<float>({-1.0f, std::nanf(""), 2.0f}, {3});
  const auto y = ops::relu(x).to_vector<float>();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(y[2], 2.0f);
}

}  // namespace
}  // namespace medtex
