#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

// The error message of fn(), or "" when it does not throw medtex::Error.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CrossEntropy, GradcheckDoubleInt32AndInt64Labels) {
  Tensor l64 = Tensor::from_vector<int64_t>({2, 0, 3, 3, 1}, {5});
  Tensor l32 = Tensor::from_vector<int32_t>({2, 0, 3, 3, 1}, {5});
  for (const Tensor& labels : {l64, l32}) {
    Tensor x = test::random_double({5, 4}, 21, -3.0, 3.0).set_requires_grad();
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels); }, {x}))
        << labels.str();
  }
  // Batch of one, a single class left over: still a softmax over 3.
  Tensor x1 = test::random_double({1, 3}, 22).set_requires_grad();
  Tensor lab1 = Tensor::from_vector<int32_t>({2}, {1});
  EXPECT_TRUE(test::gradcheck(
      [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], lab1); }, {x1}));
}

TEST(CrossEntropy, SameValueForInt32AndInt64Labels) {
  Tensor x = test::random_float({6, 5}, 23, -2.0, 2.0);
  Tensor a = ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, 1, 2, 3, 4}, {6}));
  Tensor b = ops::cross_entropy(x, Tensor::from_vector<int32_t>({0, 4, 1, 2, 3, 4}, {6}));
  EXPECT_TRUE(test::bitwise_equal(a, b));
}

TEST(CrossEntropySoft, GradcheckDoubleBothArguments) {
  Tensor x = test::random_double({4, 5}, 24, -2.0, 2.0).set_requires_grad();
  // A probability target (rows sum to one) ...
  Tensor t = ops::softmax(test::random_double({4, 5}, 25, -2.0, 2.0), -1).detach();
  t.set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::cross_entropy_soft(in[0], in[1]); }, {x, t}));
  // ... and one that does not sum to one, which the logits' rule must handle
  // (finite differences move one target entry off the simplex anyway).
  Tensor u = test::random_double({4, 5}, 26, 0.0, 1.0).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::cross_entropy_soft(in[0], in[1]); }, {x, u}));
}

TEST(CrossEntropySoft, OneHotTargetEqualsHardLabels) {
  Tensor x = test::random_double({3, 4}, 27, -2.0, 2.0);
  Tensor onehot = Tensor::from_vector<double>({0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, {3, 4});
  const double hard = ops::cross_entropy(x, Tensor::from_vector<int64_t>({2, 0, 3}, {3})).item();
  EXPECT_NEAR(ops::cross_entropy_soft(x, onehot).item(), hard, 1e-14);
}

TEST(CrossEntropy, MatchesPyTorch) {
  test::Fixture f("cross_entropy");
  for (const auto& c : f.cases()) {
    const bool soft = f.params(c)["soft"].get<bool>();
    Tensor x = f.get(c, "logits").set_requires_grad();
    Tensor t;
    Tensor loss;
    if (soft) {
      t = f.get(c, "target").set_requires_grad();
      loss = ops::cross_entropy_soft(x, t);
    } else {
      loss = ops::cross_entropy(x, f.get(c, "labels"));
    }
    loss.backward(f.get(c, "grad_y"));
    // float32 on both sides; we accumulate in double, PyTorch in float: the
    // loss agrees to a few ulp of its size (up to ~100 for the +-80 logits).
    test::expect_fixture("cross_entropy", c, "loss", loss, f.get(c, "loss"), 1e-6, 1e-6);
    // Gradients are softmax-sized (<= 1/N) values rounded in float.
    test::expect_fixture("cross_entropy", c, "grad_logits", x.grad(), f.get(c, "grad_logits"), 1e-7,
                         1e-5);
    if (soft) {
      // -log_softmax / N: up to 160 / N in the +-80 case, a few float ulp.
      test::expect_fixture("cross_entropy", c, "grad_target", t.grad(), f.get(c, "grad_target"),
                           1e-6, 1e-6);
    }
  }
}

TEST(CrossEntropy, LargeLogitsAreExact) {
  // exp(1000) overflows; the fused log-sum-exp gives the exact answer.
  Tensor x = Tensor::from_vector<float>({1000, 0, -1000, 0}, {2, 2}).set_requires_grad();
  Tensor loss = ops::cross_entropy(x, Tensor::from_vector<int64_t>({1, 1}, {2}));
  // Row 0: -log softmax = 1000; row 1: -log(1 - e^-1000) = 0; mean 500.
  EXPECT_EQ(loss.item(), 500.0);
  loss.backward();
  const auto g = x.grad().to_vector<float>();
  EXPECT_FLOAT_EQ(g[0], 0.5f);
  EXPECT_FLOAT_EQ(g[1], -0.5f);
  EXPECT_EQ(g[2], 0.0f);
  EXPECT_EQ(g[3], 0.0f);
  Tensor t = Tensor::from_vector<float>({0, 1, 0.5f, 0.5f}, {2, 2});
  EXPECT_NEAR(ops::cross_entropy_soft(x.detach(), t).item(), (1000 + 500) / 2.0, 1e-3);
}

TEST(CrossEntropy, SameBitsForAnyThreadCount) {
  // 4000 x 17 = 68000 > kParallelGrain: the rows are split across threads.
  const Tensor x0 = test::random_float({4000, 17}, 28, -4.0, 4.0);
  const Tensor t0 = ops::softmax(test::random_float({4000, 17}, 29), -1);
  std::vector<int32_t> lab(4000);
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = int32_t((i * 7) % 17);
  const Tensor labels = Tensor::from_vector(lab, {4000});
  Tensor ref[4];
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor x = x0.copy().set_requires_grad();
    Tensor t = t0.copy().set_requires_grad();
    Tensor hard = ops::cross_entropy(x, labels);
    hard.backward();
    Tensor soft = ops::cross_entropy_soft(x, t);
    soft.backward();
    const Tensor got[4] = {hard.detach(), soft.detach(), x.grad(), t.grad()};
    for (int k = 0; k < 4; ++k) {
      if (threads == 1) {
        ref[k] = got[k];
      } else {
        EXPECT_TRUE(test::bitwise_equal(got[k], ref[k])) << k << " threads " << threads;
      }
    }
  }
  set_num_threads(0);
}

TEST(CrossEntropy, LabelOutOfRangeNamesRowAndValue) {
  Tensor x = test::random_float({4, 5}, 30);
  const std::string high = error_of([&] {
    ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, 5, 1}, {4}));
  });
  EXPECT_NE(high.find("label 5 in row 2"), std::string::npos) << high;
  EXPECT_NE(high.find("5 classes"), std::string::npos) << high;
  const std::string neg = error_of([&] {
    ops::cross_entropy(x, Tensor::from_vector<int32_t>({0, 1, 2, -100}, {4}));
  });
  EXPECT_NE(neg.find("label -100 in row 3"), std::string::npos) << neg;
}

TEST(CrossEntropy, RejectsBadShapesAndTypes) {
  Tensor x = test::random_float({4, 5}, 31);
  Tensor labels = Tensor::from_vector<int64_t>({0, 1, 2, 3}, {4});
  EXPECT_THROW(ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 1, 2}, {3})), Error);
  EXPECT_THROW(ops::cross_entropy(x, labels.reshape({2, 2})), Error);
  EXPECT_THROW(ops::cross_entropy(x.reshape({20}), labels), Error);         // rank 1
  EXPECT_THROW(ops::cross_entropy(x.reshape({4, 5, 1}), labels), Error);    // rank 3
  EXPECT_THROW(ops::cross_entropy(x, labels.to(DType::F32)), Error);        // float labels
  EXPECT_THROW(ops::cross_entropy(labels.reshape({4, 1}), labels), Error);  // int logits
  EXPECT_THROW(ops::cross_entropy(Tensor::zeros({0, 5}), Tensor::zeros({0}, DType::I64)), Error);
  EXPECT_THROW(ops::cross_entropy(Tensor::zeros({4, 0}), labels), Error);
  EXPECT_THROW(ops::cross_entropy_soft(x, test::random_float({4, 6}, 32)), Error);
  EXPECT_THROW(ops::cross_entropy_soft(x.reshape({20}), x.reshape({20})), Error);
  EXPECT_THROW(ops::cross_entropy_soft(x, test::random_double({4, 5}, 33)), Error);  // mixed types
}

}  // namespace
}  // namespace medtex
