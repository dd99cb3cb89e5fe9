// topk_mask: the hard k-of-d patch selection.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/ops.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(TopkMask, MatchesPyTorch) {
  test::Fixture f("topk_mask");
  for (const auto& c : f.cases()) {
    const int k = f.params(c)["k"];
    // Exact: a 0/1 selection of the same (tie-free) elements torch.topk picks.
    test::expect_fixture("topk_mask", c, "mask", ops::topk_mask(f.get(c, "x"), k), f.get(c, "mask"),
                         0, 0);
  }
}

TEST(TopkMask, TiesGoToTheLowerIndex) {
  // Checked by hand, row by row:
  //   [1, 2, 2, 2, 0]: k = 1, 2 -> the first one, two 2s; k = 3 -> all three 2s
  //   [5, 5, 5, 5, 5]: the first k
  //   [0, 3, 3, 1, 3]: k = 1 -> index 1; k = 2 -> 1, 2; k = 3 -> the three 3s
  const Tensor x =
      Tensor::from_vector<float>({1, 2, 2, 2, 0, 5, 5, 5, 5, 5, 0, 3, 3, 1, 3}, {3, 5});
  EXPECT_EQ(ops::topk_mask(x, 2).to_vector<float>(),
            (std::vector<float>{0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(ops::topk_mask(x, 1).to_vector<float>(),
            (std::vector<float>{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(ops::topk_mask(x, 3).to_vector<float>(),
            (std::vector<float>{0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1}));
  EXPECT_EQ(ops::topk_mask(x, 5).to_vector<float>(), std::vector<float>(15, 1.0f));
  // A NaN ranks first (as in torch.topk), -inf last.
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  const Tensor y = Tensor::from_vector<float>({0, nan, -inf, 1}, {1, 4});
  EXPECT_EQ(ops::topk_mask(y, 2).to_vector<float>(), (std::vector<float>{0, 1, 0, 1}));
  EXPECT_EQ(ops::topk_mask(y, 3).to_vector<float>(), (std::vector<float>{1, 1, 0, 1}));
}

TEST(TopkMask, ManyTiesMatchAStableSort) {
  // Values on a coarse grid (many ties), rows long enough to run threaded.
  const int64_t N = 600, D = 97;
  Tensor x = test::random_double({N, D}, 11, 0, 8);
  double* p = x.data<double>();
  for (int64_t i = 0; i < N * D; ++i) p[i] = std::floor(p[i]);
  for (int k : {1, 13, 48, 97}) {
    const auto mask = ops::topk_mask(x, k).to_vector<double>();
    bool ok = true;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<int64_t> order(static_cast<size_t>(D));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t i, int64_t j) { return p[n * D + i] > p[n * D + j]; });
      std::vector<double> want(static_cast<size_t>(D), 0.0);
      for (int r = 0; r < k; ++r) want[size_t(order[size_t(r)])] = 1.0;
      ok = ok && std::equal(want.begin(), want.end(), mask.begin() + n * D);
    }
    EXPECT_TRUE(ok) << "k = " << k;
  }
}

TEST(TopkMask, IsNotDifferentiable) {
  Tensor x = test::random_double({2, 6}, 3).set_requires_grad();
  const Tensor m = ops::topk_mask(x, 2);
  EXPECT_FALSE(m.requires_grad());
  EXPECT_EQ(m.dtype(), DType::F64);
  // Multiplying by the mask lets the gradient reach x only at the selected entries.
  ops::sum(ops::mul(x, m)).backward();
  EXPECT_TRUE(test::bitwise_equal(x.grad(), m));
}

TEST(TopkMask, Errors) {
  const Tensor x = Tensor::ones({3, 5});
  EXPECT_THROW(ops::topk_mask(x, 0), Error);
  EXPECT_THROW(ops::topk_mask(x, 6), Error);
  EXPECT_THROW(ops::topk_mask(x, -1), Error);
  EXPECT_THROW(ops::topk_mask(Tensor::ones({5}), 1), Error);
  EXPECT_THROW(ops::topk_mask(Tensor::ones({2, 3, 5}), 1), Error);
  EXPECT_THROW(ops::topk_mask(Tensor::ones({3, 5}, DType::I64), 1), Error);
  try {
    ops::topk_mask(x, 9);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("topk_mask"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 5]"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace medtex
