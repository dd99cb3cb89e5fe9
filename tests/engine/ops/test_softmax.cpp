#include <cmath>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

Tensor apply(bool log, const Tensor& x, int dim, double temperature) {
  return log ? ops::log_softmax(x, dim, temperature) : ops::softmax(x, dim, temperature);
}

TEST(Softmax, GradcheckDoubleEveryDimAndTemperature) {
  for (bool log : {false, true}) {
    for (int dim : {0, 1, -1}) {
      for (double temp : {1.0, 0.5, 4.0}) {
        Tensor x = test::random_double({3, 4, 5}, 7, -2.0, 2.0).set_requires_grad();
        EXPECT_TRUE(test::gradcheck(
            [&](const std::vector<Tensor>& in) { return apply(log, in[0], dim, temp); }, {x}))
            << (log ? "log_softmax" : "softmax") << " dim " << dim << " T " << temp;
      }
    }
  }
}

TEST(Softmax, GradcheckAcrossKernelTiles) {
  // An inner extent of 67 spans two of the kernel's 64-row tiles, the second
  // partial; dim 0 of [3, 67] has inner 67 too, with a single outer index.
  for (bool log : {false, true}) {
    Tensor a = test::random_double({2, 3, 67}, 8, -3.0, 3.0).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) { return apply(log, in[0], 1, 0.5); }, {a}));
    Tensor b = test::random_double({3, 67}, 9, -3.0, 3.0).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) { return apply(log, in[0], 0, 2.0); }, {b}));
  }
}

TEST(Softmax, MatchesPyTorch) {
  test::Fixture f("softmax");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = apply(p["log"].get<bool>(), x, p["dim"].get<int>(), p["temperature"].get<double>());
    y.backward(f.get(c, "grad_y"));
    // float32 on both sides; exp and the division by T round differently
    // (we multiply by 1/T and sum in double): a few ulp of values up to
    // |x / T| = 160, hence the relative part.
    test::expect_fixture("softmax", c, "y", y, f.get(c, "y"), 1e-6, 1e-5);
    test::expect_fixture("softmax", c, "grad_x", x.grad(), f.get(c, "grad_x"), 1e-6, 1e-5);
  }
}

TEST(Softmax, LargeLogitsStayFiniteAndNormalised) {
  // exp(1000) overflows even double: only the max-subtracted form survives.
  Tensor x = Tensor::from_vector<float>({1000, -1000, 999, 0, -5e3f, 5e3f}, {2, 3});
  Tensor y = ops::softmax(x, -1);
  Tensor ly = ops::log_softmax(x, -1);
  const auto v = y.to_vector<float>();
  const auto lv = ly.to_vector<float>();
  for (float e : v) EXPECT_TRUE(std::isfinite(e));
  EXPECT_NEAR(v[0] + v[1] + v[2], 1.0, 1e-6);
  EXPECT_NEAR(v[0], 1 / (1 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[5], 1.0f);
  EXPECT_NEAR(lv[2], -1.0 - std::log1p(std::exp(-1.0)), 1e-5);
  EXPECT_NEAR(lv[1], -2000.0 - std::log1p(std::exp(-1.0)), 1e-2);
  EXPECT_EQ(lv[5], 0.0f);
  EXPECT_EQ(lv[3], -5e3f);
  EXPECT_EQ(lv[4], -1e4f);  // exactly -5000 - 5000, far below where exp underflows
}

TEST(Softmax, LogSoftmaxIsLogOfSoftmax) {
  Tensor x = test::random_double({4, 7, 3}, 3, -5.0, 5.0);
  for (int dim : {0, 1, 2}) {
    Tensor y = ops::softmax(x, dim, 0.7);
    Tensor ly = ops::log_softmax(x, dim, 0.7);
    const auto v = y.to_vector<double>();
    const auto lv = ly.to_vector<double>();
    for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(std::log(v[i]), lv[i], 1e-12) << i;
  }
}

TEST(Softmax, SameBitsForAnyThreadCount) {
  // Large enough to run in parallel (> kParallelGrain), on the contiguous and
  // the tiled path, forward and backward.
  const Tensor x0 = test::random_float({40, 30, 90}, 11, -6.0, 6.0);
  const Tensor gy = test::random_float({40, 30, 90}, 12);
  for (bool log : {false, true}) {
    for (int dim : {0, 1, 2}) {
      Tensor ref_y, ref_g;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor x = x0.copy().set_requires_grad();
        Tensor y = apply(log, x, dim, 2.0);
        y.backward(gy);
        if (!ref_y.defined()) {
          ref_y = y.detach();
          ref_g = x.grad();
        } else {
          EXPECT_TRUE(test::bitwise_equal(y, ref_y)) << "dim " << dim << " threads " << threads;
          EXPECT_TRUE(test::bitwise_equal(x.grad(), ref_g))
              << "dim " << dim << " threads " << threads;
        }
      }
    }
  }
  set_num_threads(0);
}

TEST(Softmax, RejectsBadArguments) {
  Tensor x = test::random_float({2, 3, 4}, 1);
  EXPECT_THROW(ops::softmax(x, 3), Error);
  EXPECT_THROW(ops::log_softmax(x, -4), Error);
  EXPECT_THROW(ops::softmax(x, -1, 0.0), Error);
  EXPECT_THROW(ops::log_softmax(x, -1, -1.0), Error);
  EXPECT_THROW(ops::softmax(x, -1, std::nan("")), Error);
  EXPECT_THROW(ops::softmax(Tensor::scalar(1.0), -1), Error);  // no dim to normalise over
  EXPECT_THROW(ops::softmax(Tensor::zeros({2, 3}, DType::I64), -1), Error);
}

}  // namespace
}  // namespace medtex
