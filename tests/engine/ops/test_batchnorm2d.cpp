#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

struct BnInputs {
  Tensor x, weight, bias, running_mean, running_var;
};

// Double inputs with a channel offset far from 0 and a spread far from 1, so a
// missing mean or variance term changes the result.
BnInputs bn_inputs_double(const Shape& shape, uint64_t seed) {
  const int64_t c = shape[1];
  BnInputs in;
  in.x = test::random_double(shape, seed, 1.0, 4.0).set_requires_grad();
  in.weight = test::random_double({c}, seed + 1, 0.5, 1.5).set_requires_grad();
  in.bias = test::random_double({c}, seed + 2).set_requires_grad();
  in.running_mean = test::random_double({c}, seed + 3);
  in.running_var = test::random_double({c}, seed + 4, 0.5, 2.0);
  return in;
}

::testing::AssertionResult check_bn_grad(const Shape& shape, bool training) {
  BnInputs in = bn_inputs_double(shape, 7);
  const Tensor rm = in.running_mean, rv = in.running_var;
  return test::gradcheck(
      [&](const std::vector<Tensor>& t) {
        return ops::batchnorm2d(t[0], t[1], t[2], rm, rv, training);
      },
      {in.x, in.weight, in.bias});
}

TEST(BatchNorm2d, GradcheckTrainingDouble) {
  // Batch statistics: the full backward through mean and variance.
  EXPECT_TRUE(check_bn_grad({3, 5, 7, 9}, true));
  EXPECT_TRUE(check_bn_grad({1, 3, 4, 5}, true));  // batch 1: statistics over H, W only
}

TEST(BatchNorm2d, GradcheckEvalDouble) {
  EXPECT_TRUE(check_bn_grad({3, 5, 7, 9}, false));
  EXPECT_TRUE(check_bn_grad({1, 2, 1, 1}, false));  // one value per channel is fine in eval
}

TEST(BatchNorm2d, MatchesPyTorch) {
  test::Fixture f("batchnorm2d");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    const bool training = p["training"].get<bool>();
    const double momentum = p["momentum"].get<double>(), eps = p["eps"].get<double>();
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor w = f.get(c, "weight").set_requires_grad();
    Tensor b = f.get(c, "bias").set_requires_grad();
    Tensor rm = f.get(c, "running_mean"), rv = f.get(c, "running_var");
    Tensor y = ops::batchnorm2d(x, w, b, rm, rv, training, momentum, eps);
    y.backward(f.get(c, "grad_y"));
    // Float32 throughout; we accumulate statistics in double, PyTorch partly in
    // float, and y, dx are O(1) built from a handful of rounded terms: a few
    // float ulps (~1e-7 each) of difference.
    test::expect_fixture("batchnorm2d", c, "y", y, f.get(c, "y"), 2e-6, 2e-6);
    test::expect_fixture("batchnorm2d", c, "grad_x", x.grad(), f.get(c, "grad_x"), 2e-6, 2e-6);
    // Parameter gradients are sums of 18-45 terms of size ~1, totals ~1-10:
    // we sum in double, PyTorch in float, a few float ulps of the total apart.
    test::expect_fixture("batchnorm2d", c, "grad_weight", w.grad(), f.get(c, "grad_weight"), 3e-6,
                         3e-6);
    test::expect_fixture("batchnorm2d", c, "grad_bias", b.grad(), f.get(c, "grad_bias"), 3e-6,
                         3e-6);
    // One multiply-add of values of size ~1-10 per statistic: float ulps.
    test::expect_fixture("batchnorm2d", c, "running_mean", rm, f.get(c, "running_mean_out"), 1e-6,
                         1e-6);
    test::expect_fixture("batchnorm2d", c, "running_var", rv, f.get(c, "running_var_out"), 1e-6,
                         1e-6);
    if (!training) {
      // Evaluation never touches the running statistics.
      EXPECT_TRUE(test::bitwise_equal(rm, f.get(c, "running_mean"))) << c;
      EXPECT_TRUE(test::bitwise_equal(rv, f.get(c, "running_var"))) << c;
    }
    if (f.has(c, "y_eval")) {
      // The evaluation pass after one training step uses the updated statistics.
      NoGradGuard no_grad;
      Tensor ye = ops::batchnorm2d(x, w, b, rm, rv, false, momentum, eps);
      test::expect_fixture("batchnorm2d", c, "y_eval", ye, f.get(c, "y_eval"), 2e-6, 2e-6);
    }
  }
}

TEST(BatchNorm2d, NoRunningUpdateKeepsStatsButUsesBatchStats) {
  // The MED-TEX masked pass: batch statistics, running averages untouched.
  const Tensor x = test::random_float({4, 3, 5, 6}, 21, -2.0, 5.0);
  const Tensor w = test::random_float({3}, 22, 0.5, 1.5);
  const Tensor b = test::random_float({3}, 23);
  const Tensor rm0 = test::random_float({3}, 24);
  const Tensor rv0 = test::random_float({3}, 25, 0.5, 2.0);

  Tensor rm = rm0.copy(), rv = rv0.copy();
  Tensor y_frozen = ops::batchnorm2d(x, w, b, rm, rv, true, 0.1, 1e-5, false);
  EXPECT_TRUE(test::bitwise_equal(rm, rm0));
  EXPECT_TRUE(test::bitwise_equal(rv, rv0));

  Tensor rm2 = rm0.copy(), rv2 = rv0.copy();
  Tensor y_update = ops::batchnorm2d(x, w, b, rm2, rv2, true, 0.1, 1e-5, true);
  EXPECT_TRUE(test::bitwise_equal(y_frozen, y_update));  // same batch statistics
  EXPECT_FALSE(test::bitwise_equal(rm2, rm0));           // while this one did update
  EXPECT_FALSE(test::bitwise_equal(rv2, rv0));

  // Not the running statistics: the evaluation output is different.
  Tensor y_eval = ops::batchnorm2d(x, w, b, rm0, rv0, false);
  EXPECT_GT(test::max_abs_diff(y_frozen, y_eval), 0.1);

  // Without running statistics at all, training mode still works.
  Tensor y_none = ops::batchnorm2d(x, w, b, Tensor(), Tensor(), true, 0.1, 1e-5, false);
  EXPECT_TRUE(test::bitwise_equal(y_none, y_frozen));
}

TEST(BatchNorm2d, NoGradientIntoRunningStats) {
  BnInputs in = bn_inputs_double({2, 3, 4, 5}, 31);
  in.running_mean.set_requires_grad();
  in.running_var.set_requires_grad();
  for (bool training : {true, false}) {
    Tensor y =
        ops::batchnorm2d(in.x, in.weight, in.bias, in.running_mean, in.running_var, training);
    y.backward(test::random_double(y.shape(), 32));
    EXPECT_FALSE(in.running_mean.grad().defined());
    EXPECT_FALSE(in.running_var.grad().defined());
    EXPECT_TRUE(in.x.grad().defined());
  }
}

TEST(BatchNorm2d, SameBitsForAnyThreadCount) {
  // Large enough to run in parallel (> kParallelGrain).
  const Tensor x0 = test::random_float({6, 7, 31, 33}, 41, -1.0, 3.0);
  const Tensor gy = test::random_float({6, 7, 31, 33}, 42);
  for (bool training : {true, false}) {
    Tensor ref_y, ref_gx, ref_gw, ref_rm;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      Tensor x = x0.copy().set_requires_grad();
      Tensor w = test::random_float({7}, 43, 0.5, 1.5).set_requires_grad();
      Tensor b = test::random_float({7}, 44).set_requires_grad();
      Tensor rm = Tensor::zeros({7}), rv = Tensor::ones({7});
      Tensor y = ops::batchnorm2d(x, w, b, rm, rv, training);
      y.backward(gy);
      if (!ref_y.defined()) {
        ref_y = y.detach();
        ref_gx = x.grad();
        ref_gw = w.grad();
        ref_rm = rm;
      } else {
        EXPECT_TRUE(test::bitwise_equal(y, ref_y)) << threads;
        EXPECT_TRUE(test::bitwise_equal(x.grad(), ref_gx)) << threads;
        EXPECT_TRUE(test::bitwise_equal(w.grad(), ref_gw)) << threads;
        EXPECT_TRUE(test::bitwise_equal(rm, ref_rm)) << threads;
      }
    }
  }
  set_num_threads(0);
}

TEST(BatchNorm2d, RejectsBadArguments) {
  const Tensor x = test::random_float({2, 3, 4, 4}, 1);
  const Tensor c3 = Tensor::ones({3});
  const Tensor c4 = Tensor::ones({4});
  // Wrong rank.
  EXPECT_THROW(ops::batchnorm2d(Tensor::ones({2, 3, 4}), c3, c3, c3, c3, true), Error);
  // Channel mismatch in each of the [C] vectors.
  EXPECT_THROW(ops::batchnorm2d(x, c4, c3, c3, c3, true), Error);
  EXPECT_THROW(ops::batchnorm2d(x, c3, c4, c3, c3, true), Error);
  EXPECT_THROW(ops::batchnorm2d(x, c3, c3, c4, c3, false), Error);
  EXPECT_THROW(ops::batchnorm2d(x, c3, c3, c3, c4, false), Error);
  EXPECT_THROW(ops::batchnorm2d(x, Tensor::ones({1, 3}), c3, c3, c3, true), Error);
  // Weight and bias are required.
  EXPECT_THROW(ops::batchnorm2d(x, Tensor(), c3, c3, c3, true), Error);
  // Running statistics are required to evaluate or to be updated.
  EXPECT_THROW(ops::batchnorm2d(x, c3, c3, Tensor(), Tensor(), false), Error);
  EXPECT_THROW(ops::batchnorm2d(x, c3, c3, Tensor(), Tensor(), true, 0.1, 1e-5, true), Error);
  EXPECT_THROW(ops::batchnorm2d(x, c3, c3, c3, Tensor(), true, 0.1, 1e-5, false), Error);
  // One value per channel cannot be normalised by batch statistics.
  EXPECT_THROW(ops::batchnorm2d(Tensor::ones({1, 3, 1, 1}), c3, c3, c3, c3, true), Error);
  // Mixed element types.
  EXPECT_THROW(ops::batchnorm2d(x, Tensor::ones({3}, DType::F64), c3, c3, c3, true), Error);
}

}  // namespace
}  // namespace medtex
