// max along a dim (values and gradient) and argmax.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(Max, GradcheckDouble) {
  // Uniform doubles from Philox have no ties (with probability ~1 - 1e-13),
  // so max is differentiable at every input and the differences are exact.
  uint64_t seed = 1;
  for (int dim : {0, 1, 2, -1}) {
    for (bool keepdim : {false, true}) {
      Tensor x = test::random_double({3, 4, 5}, seed++).set_requires_grad();
      EXPECT_TRUE(test::gradcheck(
          [=](const std::vector<Tensor>& in) { return ops::max(in[0], dim, keepdim); }, {x}))
          << "dim " << dim << " keepdim " << keepdim;
    }
  }
  Tensor v = test::random_double({7}, 20).set_requires_grad();
  EXPECT_TRUE(
      test::gradcheck([](const std::vector<Tensor>& in) { return ops::max(in[0], 0); }, {v}));
}

TEST(Max, MatchesPyTorch) {
  test::Fixture f("max");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    const int dim = p["dim"];
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = ops::max(x, dim, p["keepdim"]);
    y.backward(f.get(c, "grad_y"));
    // Exact: max selects an element, and its gradient is a copy of dy.
    test::expect_fixture("max", c, "y", y, f.get(c, "y"), 0, 0);
    test::expect_fixture("max", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
    const Tensor am = ops::argmax(x, dim);
    EXPECT_EQ(am.dtype(), DType::I64);
    test::expect_fixture("max", c, "argmax", am, f.get(c, "argmax"), 0, 0);
  }
}

TEST(Max, TiesGoToTheFirstElement) {
  // Checked by hand: rows [1, 3, 3, 2] and [4, 4, 0, 4].
  Tensor x = Tensor::from_vector<double>({1, 3, 3, 2, 4, 4, 0, 4}, {2, 4}).set_requires_grad();
  Tensor y = ops::max(x, 1);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_EQ(ops::argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  y.backward(Tensor::from_vector<double>({10, 20}, {2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 10, 0, 0, 20, 0, 0, 0}));
  // Along dim 0 (inner > 1): columns [1, 5, 5] and [5, 5, 2].
  const Tensor c = Tensor::from_vector<float>({1, 5, 5, 5, 5, 2}, {3, 2});
  EXPECT_EQ(ops::argmax(c, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
}

TEST(Max, NanIsTheMaximum) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({1, nan, 3, nan, 0, 2}, {2, 3});
  const auto y = ops::max(x, 1).to_vector<float>();
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(ops::argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
}

TEST(Max, WideRowsMatchANaiveLoop) {
  // inner = 600 spans several column tiles; large enough to run threaded.
  const Tensor x = test::random_float({3, 37, 600}, 5);
  const Tensor am = ops::argmax(x, 1), y = ops::max(x, 1);
  const float* v = x.data<float>();
  bool ok = true;
  for (int64_t o = 0; o < 3; ++o) {
    for (int64_t i = 0; i < 600; ++i) {
      int64_t best = 0;
      for (int64_t d = 1; d < 37; ++d) {
        if (v[(o * 37 + d) * 600 + i] > v[(o * 37 + best) * 600 + i]) best = d;
      }
      ok = ok && am.data<int64_t>()[o * 600 + i] == best &&
           y.data<float>()[o * 600 + i] == v[(o * 37 + best) * 600 + i];
    }
  }
  EXPECT_TRUE(ok);
}

TEST(Max, ArgmaxIsNotDifferentiable) {
  Tensor x = test::random_double({2, 5}, 3).set_requires_grad();
  EXPECT_FALSE(ops::argmax(x, 1).requires_grad());
  EXPECT_EQ(ops::argmax(x, -1).shape(), Shape({2}));
  EXPECT_EQ(ops::max(x, 0, true).shape(), Shape({1, 5}));
}

TEST(Max, Errors) {
  EXPECT_THROW(ops::max(Tensor::ones({2, 3}), 2), Error);
  EXPECT_THROW(ops::argmax(Tensor::ones({2, 3}), -3), Error);
  EXPECT_THROW(ops::max(Tensor::ones({2, 0}), 1), Error);  // no maximum of nothing
  EXPECT_THROW(ops::argmax(Tensor::scalar(1.0), 0), Error);
  EXPECT_THROW(ops::max(Tensor::ones({3}, DType::I32), 0), Error);
}

}  // namespace
}  // namespace medtex
