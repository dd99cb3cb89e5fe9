#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "kernels/common/parallel.h"
#include "kernels/conv2d/conv2d.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

// ---- gradient checks in double ----------------------------------------------

struct GradCase {
  Shape x, w;
  bool bias;
  int stride, padding;
};

void gradcheck_conv(const GradCase& c, uint64_t seed) {
  Tensor x = test::random_double(c.x, seed).set_requires_grad();
  Tensor w = test::random_double(c.w, seed + 1).set_requires_grad();
  Tensor b = c.bias ? test::random_double({c.w[0]}, seed + 2).set_requires_grad() : Tensor();
  const int stride = c.stride, padding = c.padding;
  EXPECT_TRUE(test::gradcheck(
      [=](const std::vector<Tensor>& in) {
        return ops::conv2d(in[0], in[1], in[2], stride, padding);
      },
      {x, w, b}))
      << "x " << c.x << " w " << c.w << " stride " << stride << " padding " << padding;
}

TEST(Conv2d, GradcheckDouble) {
  const std::vector<GradCase> cases = {
      {{2, 3, 5, 4}, {2, 3, 3, 3}, true, 1, 1},   // same-size 3x3, batch 2
      {{1, 2, 7, 6}, {3, 2, 3, 3}, false, 2, 0},  // stride 2, no padding, batch 1, no bias
      {{2, 2, 6, 7}, {2, 2, 3, 2}, true, 2, 1},   // rectangular kernel, stride 2, padding 1
      {{2, 3, 3, 4}, {2, 3, 1, 1}, true, 1, 0},   // pointwise: the GEMM reads x directly
      {{1, 3, 5, 5}, {2, 3, 1, 1}, false, 2, 0},  // 1x1 stride 2 (ResNet shortcut)
      {{1, 2, 5, 5}, {2, 2, 5, 5}, true, 3, 2},   // big kernel, stride 3
  };
  uint64_t seed = 1;
  for (const GradCase& c : cases) gradcheck_conv(c, seed += 10);
}

// Only some inputs need a gradient: the first layer (x is data), a frozen
// layer with a trainable bias. The others get none; the rest stay right.
TEST(Conv2d, GradcheckDoublePartial) {
  auto fn = [](const std::vector<Tensor>& in) { return ops::conv2d(in[0], in[1], in[2], 2, 1); };
  Tensor x = test::random_double({2, 2, 5, 5}, 1);
  Tensor w = test::random_double({3, 2, 3, 3}, 2).set_requires_grad();
  Tensor b = test::random_double({3}, 3);
  EXPECT_TRUE(test::gradcheck(fn, {x, w, b}));
  EXPECT_FALSE(x.grad().defined());
  Tensor w2 = test::random_double({3, 2, 3, 3}, 4);
  Tensor b2 = test::random_double({3}, 5).set_requires_grad();
  EXPECT_TRUE(test::gradcheck(fn, {x, w2, b2}));
  EXPECT_FALSE(w2.grad().defined());
}

// ---- PyTorch fixtures ----------------------------------------------------------

TEST(Conv2d, MatchesPyTorch) {
  test::Fixture f("conv2d");
  for (const auto& c : f.cases()) {
    const auto params = f.params(c);
    Tensor x = f.get(c, "x").set_requires_grad();
    Tensor w = f.get(c, "w").set_requires_grad();
    Tensor b = f.has(c, "b") ? f.get(c, "b").set_requires_grad() : Tensor();
    Tensor y = ops::conv2d(x, w, b, params["stride"].get<int>(), params["padding"].get<int>());
    y.backward(f.get(c, "grad_y"));
    // float32 sums of up to 147 (3 x 7 x 7) products for y, and up to 60 (N OH OW)
    // for the gradients, in another order than PyTorch's: rounding differences
    // grow like sqrt(n) * 2^-24 * |partial sums|, about 1e-6 here (measured
    // at most 2e-6). 3e-5 absolute + 1e-5 relative keeps a 10x margin and
    // still catches a wrong or missing tap (an error of order 0.1).
    const double atol = 3e-5, rtol = 1e-5;
    test::expect_fixture("conv2d", c, "y", y, f.get(c, "y"), atol, rtol);
    test::expect_fixture("conv2d", c, "grad_x", x.grad(), f.get(c, "grad_x"), atol, rtol);
    test::expect_fixture("conv2d", c, "grad_w", w.grad(), f.get(c, "grad_w"), atol, rtol);
    if (b.defined()) {
      test::expect_fixture("conv2d", c, "grad_b", b.grad(), f.get(c, "grad_b"), atol, rtol);
    }
  }
}

// ---- the kernels against a direct loop, on shapes that take every chunking path

struct Naive {
  std::vector<double> y, dx, dw, db;
};

// The definition, summed in double: y = b + sum w x; dx, dw, db by the chain rule.
Naive naive_conv(const cpu::Conv2dParams& p, const double* x, const double* w, const double* b,
                 const double* dy) {
  Naive r;
  r.y.assign(size_t(p.N * p.K * p.OH * p.OW), 0.0);
  r.dx.assign(size_t(p.N * p.C * p.H * p.W), 0.0);
  r.dw.assign(size_t(p.K * p.C * p.R * p.S), 0.0);
  r.db.assign(size_t(p.K), 0.0);
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k)
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const int64_t yi = ((n * p.K + k) * p.OH + oh) * p.OW + ow;
          double s = b[k];
          r.db[size_t(k)] += dy[yi];
          for (int64_t c = 0; c < p.C; ++c)
            for (int64_t i = 0; i < p.R; ++i)
              for (int64_t j = 0; j < p.S; ++j) {
                const int64_t iy = oh * p.stride - p.padding + i;
                const int64_t ix = ow * p.stride - p.padding + j;
                if (iy < 0 || iy >= p.H || ix < 0 || ix >= p.W) continue;
                const int64_t xi = ((n * p.C + c) * p.H + iy) * p.W + ix;
                const int64_t wi = ((k * p.C + c) * p.R + i) * p.S + j;
                s += w[wi] * x[xi];
                r.dx[size_t(xi)] += w[wi] * dy[yi];
                r.dw[size_t(wi)] += x[xi] * dy[yi];
              }
          r.y[size_t(yi)] = s;
        }
  return r;
}

::testing::AssertionResult close(const std::vector<double>& got, const std::vector<double>& ref,
                                 const char* what) {
  for (size_t i = 0; i < ref.size(); ++i) {
    // Both in double; sums of up to ~10^4 terms of size 1: 1e-9 is ample.
    if (!(std::abs(got[i] - ref[i]) <= 1e-9 * (1 + std::abs(ref[i])))) {
      return ::testing::AssertionFailure()
             << what << "[" << i << "] = " << got[i] << ", expected " << ref[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<double> random_vec(int64_t n, uint64_t seed) {
  return test::random_double({n}, seed).to_vector<double>();
}

void check_against_naive(const cpu::Conv2dParams& p, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W
                                    << " K=" << p.K << " R=" << p.R << " S=" << p.S
                                    << " stride=" << p.stride << " padding=" << p.padding);
  const auto x = random_vec(p.N * p.C * p.H * p.W, seed);
  const auto w = random_vec(p.K * p.C * p.R * p.S, seed + 1);
  const auto b = random_vec(p.K, seed + 2);
  const auto dy = random_vec(p.N * p.K * p.OH * p.OW, seed + 3);
  const Naive ref = naive_conv(p, x.data(), w.data(), b.data(), dy.data());

  std::vector<double> y(ref.y.size(), std::nan("")), dx(ref.dx.size(), std::nan(""));
  cpu::conv2d_forward<double>(p, x.data(), w.data(), b.data(), y.data());
  EXPECT_TRUE(close(y, ref.y, "y"));
  cpu::conv2d_backward_input<double>(p, dy.data(), w.data(), dx.data());
  EXPECT_TRUE(close(dx, ref.dx, "dx"));
  // Parameter gradients accumulate: start from 1 and expect 1 + gradient.
  std::vector<double> dw(ref.dw.size(), 1.0), db(ref.db.size(), 1.0);
  cpu::conv2d_backward_weight<double>(p, x.data(), dy.data(), dw.data(), db.data());
  auto plus_one = [](std::vector<double> v) {
    for (auto& e : v) e += 1;
    return v;
  };
  EXPECT_TRUE(close(dw, plus_one(ref.dw), "dw"));
  EXPECT_TRUE(close(db, plus_one(ref.db), "db"));
}

TEST(Conv2d, KernelsMatchDirectLoopOnEveryChunking) {
  using P = cpu::Conv2dParams;
  // On one thread every path runs inside one GEMM chain per chunk; with the
  // default threads the batch is split across threads where it divides well.
  for (int threads : {1, 0}) {
    set_num_threads(threads);
    SCOPED_TRACE(::testing::Message() << "threads " << num_threads());
    // Several small images per GEMM, with a remainder chunk (36 pixels per
    // image: 29 images per chunk, 40 images).
    check_against_naive(P::make(40, 3, 6, 6, 4, 3, 3, 1, 1), 10);
    // One whole image per GEMM (34x34 output >= the 1024-column target).
    check_against_naive(P::make(2, 2, 34, 34, 3, 3, 3, 1, 1), 20);
    // Pieces of one image: 64 * 3 * 3 = 576 rows cap a chunk at 7281 columns,
    // less than the 90 * 90 output, and the pieces start mid-row.
    check_against_naive(P::make(2, 64, 90, 90, 2, 3, 3, 1, 1), 30);
    // Pointwise with whole images: the GEMM reads x and writes dx directly.
    check_against_naive(P::make(2, 4, 33, 33, 3, 1, 1, 1, 0), 40);
    // Pointwise with several images per chunk, and strided 1x1.
    check_against_naive(P::make(3, 5, 7, 6, 4, 1, 1, 1, 0), 50);
    check_against_naive(P::make(3, 5, 7, 6, 4, 1, 1, 2, 0), 60);
    // Stride larger than the kernel (taps skip input pixels), big padding.
    check_against_naive(P::make(2, 2, 11, 9, 3, 2, 3, 3, 2), 70);
  }
  set_num_threads(0);
}

// ---- determinism -----------------------------------------------------------------

TEST(Conv2d, BitwiseIdenticalForAnyThreadCount) {
  struct Shape4 {
    Shape x, w;
    int stride, padding;
  };
  // A first layer (3 -> 8 channels, one image per GEMM, a tiny weight
  // gradient), a middle one (many images per GEMM), and a batch of one (no
  // split of the batch: the GEMMs split their tiles). With 1, 2 and 3
  // threads the batch is split in different ways, or not at all.
  for (const Shape4& s : std::vector<Shape4>{{{3, 3, 40, 40}, {8, 3, 3, 3}, 1, 1},
                                             {{6, 16, 12, 12}, {32, 16, 3, 3}, 2, 1},
                                             {{1, 16, 20, 20}, {32, 16, 3, 3}, 1, 1}}) {
    const Tensor x = test::random_float(s.x, 1), w = test::random_float(s.w, 2);
    const Tensor b = test::random_float({s.w[0]}, 3);
    std::vector<Tensor> results;
    Tensor gy;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      Tensor xl = x.copy().set_requires_grad(), wl = w.copy().set_requires_grad();
      Tensor bl = b.copy().set_requires_grad();
      Tensor y = ops::conv2d(xl, wl, bl, s.stride, s.padding);
      if (!gy.defined()) gy = test::random_float(y.shape(), 4);
      y.backward(gy);
      for (const Tensor& t : {y, xl.grad(), wl.grad(), bl.grad()}) results.push_back(t);
    }
    set_num_threads(0);
    const char* names[] = {"y", "grad_x", "grad_w", "grad_b"};
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(test::bitwise_equal(results[i], results[4 + i])) << names[i] << " x " << s.x;
      EXPECT_TRUE(test::bitwise_equal(results[i], results[8 + i])) << names[i] << " x " << s.x;
    }
  }
}

// ---- errors ----------------------------------------------------------------------

TEST(Conv2d, RejectsBadShapes) {
  const Tensor x = Tensor::zeros({2, 3, 5, 5}), w = Tensor::zeros({4, 3, 3, 3});
  const Tensor b = Tensor::zeros({4});
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 2, 3, 3}), b), Error);  // channels disagree
  EXPECT_THROW(ops::conv2d(Tensor::zeros({3, 5, 5}), w, b), Error);     // 3-d input
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 3, 3}), b), Error);     // 3-d weight
  EXPECT_THROW(ops::conv2d(x, w, Tensor::zeros({3})), Error);           // bias length
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 3, 7, 3}), b), Error);  // kernel taller than input
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 3, 8, 8}), b, 1, 1), Error);  // > padded input
  EXPECT_THROW(ops::conv2d(x, w, b, 0, 0), Error);                            // stride 0
  EXPECT_THROW(ops::conv2d(x, w, b, 1, -1), Error);                           // negative padding
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 3, 3, 3}, DType::F64), b), Error);  // mixed types
  // The message names the op and both shapes.
  std::string message;
  try {
    ops::conv2d(x, Tensor::zeros({4, 2, 3, 3}), b);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("conv2d"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3, 5, 5]"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 2, 3, 3]"), std::string::npos) << message;
  // The kernel exactly as large as the padded input is fine: a 1x1 output.
  EXPECT_EQ(ops::conv2d(x, Tensor::zeros({4, 3, 7, 7}), b, 1, 1).shape(), (Shape{2, 4, 1, 1}));
}

}  // namespace
}  // namespace medtex
