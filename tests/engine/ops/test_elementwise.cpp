// add, sub, mul with broadcasting, mul_scalar, add_scalar.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

Binary binary_op(const std::string& name) {
  if (name == "add") return ops::add;
  if (name == "sub") return ops::sub;
  return ops::mul;
}

// Gradcheck of one binary op on fresh double inputs of the two shapes.
::testing::AssertionResult check_binary(const std::string& op, const Shape& sa, const Shape& sb,
                                        uint64_t seed) {
  Tensor a = test::random_double(sa, seed).set_requires_grad();
  Tensor b = test::random_double(sb, seed + 1).set_requires_grad();
  const Binary f = binary_op(op);
  return test::gradcheck([f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b});
}

TEST(Elementwise, GradcheckSameShape) {
  EXPECT_TRUE(check_binary("add", {3, 4, 5}, {3, 4, 5}, 1));
  EXPECT_TRUE(check_binary("sub", {7}, {7}, 3));
  EXPECT_TRUE(check_binary("mul", {2, 3, 5}, {2, 3, 5}, 5));
}

TEST(Elementwise, GradcheckBroadcast) {
  // The explainer's mask times the image, both argument orders, batch 1 and 2.
  EXPECT_TRUE(check_binary("mul", {2, 1, 3, 5}, {2, 3, 3, 5}, 11));
  EXPECT_TRUE(check_binary("mul", {1, 3, 5, 3}, {1, 1, 5, 3}, 13));
  // [N, 1, D] + [N, K, D], and both inputs stretched.
  EXPECT_TRUE(check_binary("add", {2, 1, 5}, {2, 4, 5}, 15));
  EXPECT_TRUE(check_binary("add", {3, 1, 5}, {1, 4, 5}, 17));
  EXPECT_TRUE(check_binary("sub", {3, 1, 5}, {1, 4, 5}, 19));
  EXPECT_TRUE(check_binary("mul", {3, 1, 5}, {1, 4, 5}, 21));
  // Different ranks and a 0-d operand.
  EXPECT_TRUE(check_binary("sub", {3, 1, 5}, {4, 5}, 23));
  EXPECT_TRUE(check_binary("mul", {5}, {2, 3, 5}, 25));
  EXPECT_TRUE(check_binary("mul", {}, {3, 4}, 27));
  EXPECT_TRUE(check_binary("sub", {2, 3}, {}, 29));
  EXPECT_TRUE(check_binary("add", {}, {}, 31));
  // Six dims, stretched in alternating places.
  EXPECT_TRUE(check_binary("mul", {2, 1, 3, 1, 2, 1}, {1, 3, 1, 2, 1, 3}, 33));
}

TEST(Elementwise, GradcheckOneSidedAndScalarOps) {
  // Only a requires grad: b must receive none, a must still be right.
  Tensor a = test::random_double({2, 3, 4}, 41).set_requires_grad();
  Tensor b = test::random_double({2, 1, 4}, 42);
  EXPECT_TRUE(test::gradcheck([](const std::vector<Tensor>& in) { return ops::mul(in[0], in[1]); },
                              {a, b}));
  EXPECT_FALSE(b.grad().defined());

  Tensor x = test::random_double({3, 5}, 43).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::mul_scalar(in[0], -0.37); }, {x}));
  EXPECT_TRUE(test::gradcheck(
      [](const std::vector<Tensor>& in) { return ops::add_scalar(in[0], 2.5); }, {x}));
}

TEST(Elementwise, MatchesPyTorch) {
  test::Fixture f("elementwise");
  for (const auto& c : f.cases()) {
    const std::string op = f.params(c)["op"];
    if (op == "mul_scalar" || op == "add_scalar") {
      const double s = f.params(c)["s"];
      Tensor x = f.get(c, "x").set_requires_grad();
      Tensor y = op == "mul_scalar" ? ops::mul_scalar(x, s) : ops::add_scalar(x, s);
      y.backward(f.get(c, "grad_y"));
      // Exact: one float operation per element, with s rounded to float as PyTorch does.
      test::expect_fixture("elementwise", c, "y", y, f.get(c, "y"), 0, 0);
      test::expect_fixture("elementwise", c, "grad_x", x.grad(), f.get(c, "grad_x"), 0, 0);
      continue;
    }
    Tensor a = f.get(c, "a").set_requires_grad();
    Tensor b = f.get(c, "b").set_requires_grad();
    Tensor y = binary_op(op)(a, b);
    y.backward(f.get(c, "grad_y"));
    // Forward exact: each element is one float operation on the same two floats.
    test::expect_fixture("elementwise", c, "y", y, f.get(c, "y"), 0, 0);
    // Gradients of stretched inputs sum at most 4 float terms of size <= 1:
    // PyTorch's float sum may round up to 3 times (~2e-7 each), ours once.
    test::expect_fixture("elementwise", c, "grad_a", a.grad(), f.get(c, "grad_a"), 1e-6, 1e-6);
    test::expect_fixture("elementwise", c, "grad_b", b.grad(), f.get(c, "grad_b"), 1e-6, 1e-6);
  }
}

// Naive broadcasting by explicit index arithmetic, to check the merged loop
// plans of the kernel on shapes the fixtures do not cover.
Tensor reference_binary(const std::string& op, const Tensor& a, const Tensor& b) {
  const int nd = std::max(a.ndim(), b.ndim());
  Shape out(size_t(nd), 1);
  for (int i = 0; i < nd; ++i) {
    const int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
    const int64_t ea = ia >= 0 ? a.shape()[size_t(ia)] : 1,
                  eb = ib >= 0 ? b.shape()[size_t(ib)] : 1;
    out[size_t(i)] = ea == 1 ? eb : ea;
  }
  Tensor y = Tensor::empty(out, DType::F32);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  for (int64_t flat = 0; flat < y.numel(); ++flat) {
    int64_t rem = flat, oa = 0, ob = 0, sa = 1, sb = 1;
    for (int i = nd - 1; i >= 0; --i) {
      const int64_t idx = rem % out[size_t(i)];
      rem /= out[size_t(i)];
      const int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
      if (ia >= 0) {
        const int64_t e = a.shape()[size_t(ia)];
        oa += (e == 1 ? 0 : idx) * sa;
        sa *= e;
      }
      if (ib >= 0) {
        const int64_t e = b.shape()[size_t(ib)];
        ob += (e == 1 ? 0 : idx) * sb;
        sb *= e;
      }
    }
    const float u = pa[oa], v = pb[ob];
    y.data<float>()[flat] = op == "add" ? u + v : op == "sub" ? u - v : u * v;
  }
  return y;
}

TEST(Elementwise, ForwardMatchesNaiveBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{4, 1, 6, 7}, {4, 3, 6, 7}},
      {{1, 3, 1, 7}, {4, 1, 6, 1}},
      {{7}, {4, 3, 6, 7}},
      {{4, 3, 6, 1}, {7}},
      {{2, 1, 3, 1, 2, 5}, {1, 4, 1, 3, 2, 1}},
      {{1}, {1}},
      {{3, 1}, {1, 1}},
      {{200, 1, 300}, {1, 3, 300}},
      {{0, 3}, {1, 3}},
  };
  uint64_t seed = 100;
  for (const auto& [sa, sb] : pairs) {
    for (const std::string op : {"add", "sub", "mul"}) {
      const Tensor a = test::random_float(sa, seed++), b = test::random_float(sb, seed++);
      // Exact: the same single float operation on the same two values.
      EXPECT_TRUE(test::all_close(binary_op(op)(a, b), reference_binary(op, a, b), 0, 0))
          << op << " " << sa << " " << sb;
      EXPECT_TRUE(test::all_close(binary_op(op)(b, a), reference_binary(op, b, a), 0, 0))
          << op << " " << sb << " " << sa;
    }
  }
}

TEST(Elementwise, ResultShapesAndGradFlags) {
  const Tensor a = Tensor::ones({2, 1, 4}), b = Tensor::ones({3, 1});
  EXPECT_EQ(ops::add(a, b).shape(), Shape({2, 3, 4}));
  EXPECT_EQ(ops::mul(Tensor::scalar(2.0), Tensor::scalar(3.0)).shape(), Shape({}));
  EXPECT_EQ(ops::mul(Tensor::scalar(2.0), Tensor::scalar(3.0)).item(), 6.0);
  EXPECT_EQ(ops::sub(Tensor::zeros({0, 3}), Tensor::ones({1, 3})).shape(), Shape({0, 3}));
  EXPECT_FALSE(ops::mul(a, b).requires_grad());
  Tensor c = Tensor::ones({3, 1}).set_requires_grad();
  EXPECT_TRUE(ops::mul(a, c).requires_grad());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(ops::mul(a, c).requires_grad());
  }
}

TEST(Elementwise, BroadcastBackwardIsThreadCountIndependent) {
  // A mask gradient summed over 3 channels of a 64x64 batch of 8 and a bias
  // gradient summed over 32768 elements: sizes well past the parallel grain,
  // which split unevenly across threads. Run in double too, where a changed
  // order of addition would round differently (float sums are exact in double).
  auto random = [](const Shape& s, uint64_t seed, bool dbl) {
    return dbl ? test::random_double(s, seed) : test::random_float(s, seed);
  };
  for (bool dbl : {false, true}) {
    auto run = [&](int threads) {
      set_num_threads(threads);
      Tensor image = random({8, 3, 64, 64}, 7, dbl);
      Tensor mask = random({8, 1, 64, 64}, 8, dbl).set_requires_grad();
      Tensor bias = random({3, 1, 1}, 9, dbl).set_requires_grad();
      ops::add(ops::mul(image, mask), bias).backward(random({8, 3, 64, 64}, 10, dbl));
      set_num_threads(0);
      return std::make_pair(mask.grad(), bias.grad());
    };
    const auto one = run(1);
    for (int threads : {2, 3, 8}) {
      const auto other = run(threads);
      EXPECT_TRUE(test::bitwise_equal(one.first, other.first)) << threads << " threads";
      EXPECT_TRUE(test::bitwise_equal(one.second, other.second)) << threads << " threads";
    }
  }
}

// The error message of f(), or "" when it does not throw medtex::Error.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Elementwise, Errors) {
  const Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4});
  EXPECT_THROW(ops::add(a, b), Error);
  const std::string msg = error_of([&] { ops::mul(a, Tensor::ones({2, 1, 2})); });
  EXPECT_NE(msg.find("mul"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 1, 2]"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] {
              ops::sub(Tensor::ones({5, 0}), Tensor::ones({5, 2}));
            }).find("sub"),
            std::string::npos);
  // Mixed element types and integer tensors.
  EXPECT_THROW(ops::add(a, Tensor::ones({2, 3}, DType::F64)), Error);
  EXPECT_THROW(ops::mul(Tensor::ones({2}, DType::I64), Tensor::ones({2}, DType::I64)), Error);
  EXPECT_THROW(ops::mul_scalar(Tensor::ones({2}, DType::I32), 2.0), Error);
  // Seven alternately stretched dims cannot be merged into a 6-level loop.
  EXPECT_THROW(ops::mul(Tensor::ones({2, 1, 2, 1, 2, 1, 2}), Tensor::ones({1, 2, 1, 2, 1, 2, 1})),
               Error);
}

}  // namespace
}  // namespace medtex
