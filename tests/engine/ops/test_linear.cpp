#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

Tensor linear_fn(const std::vector<Tensor>& in) {
  return ops::linear(in[0], in[1], in[2]);
}

TEST(Linear, GradcheckDouble) {
  Tensor x = test::random_double({5, 7}, 1).set_requires_grad();
  Tensor w = test::random_double({3, 7}, 2).set_requires_grad();
  Tensor b = test::random_double({3}, 3).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(linear_fn, {x, w, b}));
}

TEST(Linear, GradcheckDoubleBatch1NoBias) {
  Tensor x = test::random_double({1, 9}, 4).set_requires_grad();
  Tensor w = test::random_double({4, 9}, 5).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(linear_fn, {x, w, Tensor()}));
}

// Only some inputs need a gradient (a frozen layer, or the first layer whose
// input is data): the others get none, and the rest are still right.
TEST(Linear, GradcheckDoublePartial) {
  Tensor x = test::random_double({3, 6}, 6).set_requires_grad();
  Tensor w = test::random_double({5, 6}, 7);
  Tensor b = test::random_double({5}, 8);
  EXPECT_TRUE(test::gradcheck(linear_fn, {x, w, b}));
  EXPECT_FALSE(w.grad().defined());
  Tensor x2 = test::random_double({3, 6}, 9);
  Tensor b2 = test::random_double({5}, 10).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(linear_fn, {x2, w, b2}));
  EXPECT_FALSE(x2.grad().defined());
}

TEST(Linear, MatchesPyTorch) {
  test::Fixture f("linear");
  for (const auto& c : f.cases()) {
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor w = f.get(c, "w").set_requires_grad();
    Tensor b = f.has(c, "b") ? f.get(c, "b").set_requires_grad() : Tensor();
    Tensor y = ops::linear(x, w, b);
    y.backward(f.get(c, "grad_y"));
    // float32 sums of at most 64 products of values in [-1, 1], in another
    // order than PyTorch's: rounding differences of order sqrt(64) * 2^-24 *
    // |partial sums| ~ 1e-6 (measured at most 1.2e-7). 2e-5 absolute keeps a
    // wide margin and still catches a wrong index (an error of order 0.1).
    const double atol = 2e-5, rtol = 1e-5;
    test::expect_fixture("linear", c, "y", y, f.get(c, "y"), atol, rtol);
    test::expect_fixture("linear", c, "grad_x", x.grad(), f.get(c, "grad_x"), atol, rtol);
    test::expect_fixture("linear", c, "grad_w", w.grad(), f.get(c, "grad_w"), atol, rtol);
    if (b.defined()) {
      test::expect_fixture("linear", c, "grad_b", b.grad(), f.get(c, "grad_b"), atol, rtol);
    }
  }
}

TEST(Linear, BitwiseIdenticalForAnyThreadCount) {
  Tensor x = test::random_float({64, 300}, 11);
  Tensor w = test::random_float({130, 300}, 12);
  Tensor b = test::random_float({130}, 13);
  Tensor gy = test::random_float({64, 130}, 14);
  std::vector<Tensor> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor xl = x.copy().set_requires_grad(), wl = w.copy().set_requires_grad();
    Tensor bl = b.copy().set_requires_grad();
    Tensor y = ops::linear(xl, wl, bl);
    y.backward(gy);
    for (const Tensor& t : {y, xl.grad(), wl.grad(), bl.grad()}) results.push_back(t);
  }
  set_num_threads(0);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(test::bitwise_equal(results[i], results[4 + i])) << "output " << i;
    EXPECT_TRUE(test::bitwise_equal(results[i], results[8 + i])) << "output " << i;
  }
}

TEST(Linear, RejectsBadShapes) {
  const Tensor x = Tensor::zeros({2, 3}), w = Tensor::zeros({4, 3}), b = Tensor::zeros({4});
  EXPECT_THROW(ops::linear(Tensor::zeros({2, 5}), w, b), Error);              // features disagree
  EXPECT_THROW(ops::linear(Tensor::zeros({2, 3, 1}), w, b), Error);           // 3-d input
  EXPECT_THROW(ops::linear(x, Tensor::zeros({4, 3, 1}), b), Error);           // 3-d weight
  EXPECT_THROW(ops::linear(x, w, Tensor::zeros({3})), Error);                 // bias length
  EXPECT_THROW(ops::linear(x, w, Tensor::zeros({4, 1})), Error);              // 2-d bias
  EXPECT_THROW(ops::linear(x, Tensor::zeros({4, 3}, DType::F64), b), Error);  // mixed types
  EXPECT_NO_THROW(ops::linear(x, w, b));
  EXPECT_NO_THROW(ops::linear(x, w, Tensor()));
}

}  // namespace
}  // namespace medtex
