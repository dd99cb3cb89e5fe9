// sum and mean over dim lists.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

Tensor reduce(bool mean, const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  return mean ? ops::mean(x, dims, keepdim) : ops::sum(x, dims, keepdim);
}

TEST(Reduce, GradcheckDouble) {
  const std::vector<std::vector<int>> dim_sets = {{}, {0}, {1}, {-1}, {0, 2}, {2, 0}, {0, 1, 2}};
  uint64_t seed = 1;
  for (bool mean : {false, true}) {
    for (const auto& dims : dim_sets) {
      for (bool keepdim : {false, true}) {
        Tensor x = test::random_double({3, 4, 5}, seed++).set_requires_grad();
        EXPECT_TRUE(test::gradcheck(
            [&](const std::vector<Tensor>& in) { return reduce(mean, in[0], dims, keepdim); }, {x}))
            << (mean ? "mean" : "sum") << " dims " << dims.size() << " keepdim " << keepdim;
      }
    }
  }
  // The batch-norm-like reduction over N, H, W of an odd image batch, and a 0-d input.
  Tensor img = test::random_double({2, 3, 5, 3}, 50).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) {
        return ops::mean(in[0], {0, 2, 3}, true);
      },
      {img}));
  Tensor s = test::random_double({}, 51).set_requires_grad();
  EXPECT_TRUE(test::gradcheck([](const std::vector<Tensor>& in) { return ops::sum(in[0]); }, {s}));
}

TEST(Reduce, MatchesPyTorch) {
  test::Fixture f("reduce");
  for (const auto& c : f.cases()) {
    const auto p = f.params(c);
    const bool mean = p["op"] == "mean";
    const std::vector<int> dims = p["dims"];
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor y = reduce(mean, x, dims, p["keepdim"]);
    y.backward(f.get(c, "grad_y"));
    // Sums of at most 120 values in [-1, 1]: PyTorch accumulates in float
    // (error up to ~1e-6 here), we in double and round once.
    test::expect_fixture("reduce", c, "y", y, f.get(c, "y"), 2e-6, 1e-6);
    // The gradient is dy copied (sum) or divided by R in float (mean), as PyTorch does: exact.
    test::expect_fixture("reduce", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
  }
}

// The accumulation order reduce.h promises: per output, the reduced elements
// in row-major order, summed in double in chunks of kFixedChunk, the chunk
// sums added in order. x is [A, B, C]; `which` selects the reduced dims.
std::vector<double> contract_sum(const Tensor& x, bool ra, bool rb, bool rc) {
  const int64_t A = x.size(0), B = x.size(1), C = x.size(2);
  const double* v = x.data<double>();
  const int64_t oa = ra ? 1 : A, ob = rb ? 1 : B, oc = rc ? 1 : C;
  std::vector<double> out;
  for (int64_t i = 0; i < oa; ++i) {
    for (int64_t j = 0; j < ob; ++j) {
      for (int64_t k = 0; k < oc; ++k) {
        double total = 0, chunk = 0;
        int64_t count = 0;
        for (int64_t a = ra ? 0 : i; a < (ra ? A : i + 1); ++a) {
          for (int64_t b = rb ? 0 : j; b < (rb ? B : j + 1); ++b) {
            for (int64_t c = rc ? 0 : k; c < (rc ? C : k + 1); ++c) {
              chunk += double(v[(a * B + b) * C + c]);
              if (++count == kFixedChunk) {
                total += chunk;
                chunk = 0;
                count = 0;
              }
            }
          }
        }
        if (count > 0) total += chunk;
        out.push_back(total);
      }
    }
  }
  return out;
}

TEST(Reduce, FollowsTheFixedChunkOrderOnEveryPath) {
  // Shapes that take the row-wise path (innermost dim kept) and the per-output
  // path (innermost reduced), with one and with several chunks per output.
  struct Case {
    Shape shape;
    std::vector<int> dims;
  };
  const std::vector<Case> cases = {
      {{1, 9001, 3}, {1}},    {{1, 3, 9001}, {2}},  {{5, 3001, 7}, {0, 1}},
      {{7, 5, 2999}, {0, 2}}, {{3, 4, 5}, {0, 2}},  {{2, 20000, 1}, {0, 1, 2}},
      {{300, 2, 300}, {0}},   {{4, 1, 13000}, {}},  {{6, 5, 700}, {1}},
      {{1, 1, 100000}, {}},   {{40000, 3, 1}, {0}},
  };
  uint64_t seed = 200;
  for (const auto& c : cases) {
    // Double data with magnitudes spread over 2^-40..2^40, so that another
    // order of addition would round differently and show. (Float data would
    // not: its double sums are exact or round away when narrowed to float.)
    Tensor x = test::random_double(c.shape, seed++, -1.0, 3.0);
    const Tensor scale = test::random_double(c.shape, seed++, -40.0, 40.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      x.data<double>()[i] = std::ldexp(x.data<double>()[i], int(scale.data<double>()[i]));
    }
    bool r[3] = {c.dims.empty(), c.dims.empty(), c.dims.empty()};
    for (int d : c.dims) r[d] = true;
    const std::vector<double> want = contract_sum(x, r[0], r[1], r[2]);
    for (int threads : {1, 2, 5}) {
      set_num_threads(threads);
      const std::vector<double> got = ops::sum(x, c.dims).to_vector<double>();
      set_num_threads(0);
      ASSERT_EQ(got.size(), want.size());
      bool same = true;
      for (size_t i = 0; i < got.size(); ++i) same = same && got[i] == want[i];
      EXPECT_TRUE(same) << "sum over " << c.dims.size() << " dims of " << c.shape << " with "
                        << threads << " threads";
    }
  }
}

TEST(Reduce, LongFloatSumIsAccurate) {
  // 1e6 floats, each near 1: a float accumulator would drift by ~1e-2
  // relative; double chunk sums stay at the final rounding (6e-8).
  const Tensor x = test::random_float({1000000}, 7, 0.5, 1.5);
  double ref = 0;
  for (float v : x.to_vector<float>()) ref += double(v);
  EXPECT_NEAR(ops::sum(x).item(), ref, ref * 1.2e-7);
  EXPECT_NEAR(ops::mean(x).item(), ref / 1e6, ref / 1e6 * 1.2e-7);
}

TEST(Reduce, ShapesAndEdgeCases) {
  const Tensor x = Tensor::ones({2, 3, 4});
  EXPECT_EQ(ops::sum(x).shape(), Shape({}));
  EXPECT_EQ(ops::sum(x).item(), 24.0);
  EXPECT_EQ(ops::sum(x, {}, true).shape(), Shape({1, 1, 1}));
  EXPECT_EQ(ops::mean(x, {1}).shape(), Shape({2, 4}));
  EXPECT_EQ(ops::mean(x, {-1, 0}, true).shape(), Shape({1, 3, 1}));
  EXPECT_EQ(ops::mean(x, {-1, 0}, true).to_vector<float>(), std::vector<float>(3, 1.0f));
  // Reducing over an empty dim gives 0 (sum) as PyTorch does; the mean is 0/0.
  const Tensor e = Tensor::ones({2, 0, 3});
  EXPECT_EQ(ops::sum(e, {1}).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_TRUE(std::isnan(ops::mean(e, {1}).to_vector<float>()[0]));
  EXPECT_EQ(ops::sum(e, {0}).shape(), Shape({0, 3}));
  // Dims of extent 1 only: a copy.
  const Tensor one = test::random_float({3, 1, 2}, 3);
  EXPECT_TRUE(test::bitwise_equal(ops::sum(one, {1}, true), one));
  // double in, double out.
  EXPECT_EQ(ops::sum(Tensor::ones({5}, DType::F64)).dtype(), DType::F64);
}

TEST(Reduce, Errors) {
  const Tensor x = Tensor::ones({2, 3});
  EXPECT_THROW(ops::sum(x, {2}), Error);
  EXPECT_THROW(ops::mean(x, {-3}), Error);
  EXPECT_THROW(ops::sum(x, {1, -1}), Error);  // the same dim twice
  EXPECT_THROW(ops::sum(Tensor::ones({4}, DType::I64)), Error);
  try {
    ops::mean(x, {0, 0});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mean"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtex
