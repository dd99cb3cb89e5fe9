// linear on the GPU backends against its CPU twin: the three launchers with
// every GEMM version, and the op through autograd.
//
// Tolerance: as in test_gemm_cuda.cpp. The launchers make the CPU twin's gemm
// calls and sum the bias in the CPU's order, so the emulated build must match
// bit for bit; on a GPU each GEMM step is one fma, and |got - cpu| <=
// 1e-6 (depth + 1) + 1e-5 |cpu| allows for that, where depth is the length of
// the reduction (in for y, out for dx, n for dw and db) and every value is in
// [-1, 1].
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/linear/linear.h"
#include "kernels/linear/linear_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

using gpu::GemmVersion;

class LinearCuda : public test::GpuTest {
 protected:
  // Bit for bit on the emulator, the fma tolerance on a GPU.
  void expect_close(const Tensor& got, const Tensor& want, int64_t depth) const {
    if (emulated()) {
      EXPECT_TRUE(test::bitwise_equal(got, want))
          << "max |diff| " << test::max_abs_diff(got, want) << "\n"
          << test::all_close(got, want, 0, 0).message();
    } else {
      EXPECT_TRUE(test::all_close(got, want, 1e-6 * double(depth + 1), 1e-5));
    }
  }
};

constexpr GemmVersion kAllVersions[] = {
    GemmVersion::kV1Naive,
    GemmVersion::kV2SharedTiles,
    GemmVersion::kV3RegisterTiles,
    GemmVersion::kV3RegisterTiles64,
    GemmVersion::kV3RegisterTiles128,
};

struct Dims {
  int64_t n, in, out;
};

// Batch 1, odd feature counts, a batch and width past one 64 tile, and the
// student's head ([32, 128] -> 5 classes).
constexpr Dims kDims[] = {{1, 1, 1}, {3, 17, 5}, {1, 40, 9}, {70, 33, 13}, {32, 128, 5}};

TEST_P(LinearCuda, ForwardMatchesTheCpuTwin) {
  for (const Dims& d : kDims) {
    const Tensor x = test::random_float({d.n, d.in}, 1), w = test::random_float({d.out, d.in}, 2);
    const Tensor b = test::random_float({d.out}, 3);
    for (bool bias : {true, false}) {
      Tensor want = Tensor::empty({d.n, d.out});
      cpu::linear_forward<float>(d.n, d.in, d.out, x.data<float>(), w.data<float>(),
                                 bias ? b.data<float>() : nullptr, want.data<float>());
      for (GemmVersion v : kAllVersions) {
        SCOPED_TRACE(::testing::Message() << "n=" << d.n << " in=" << d.in << " out=" << d.out
                                          << " bias=" << bias << " v" << int(v));
        const Tensor got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gb = test::to_gpu(b);
          Tensor y = Tensor::full({d.n, d.out}, 7.0, DType::F32, Device::cuda());  // overwritten
          MT_GPU(linear_forward)(d.n, d.in, d.out, gx.data<float>(), gw.data<float>(),
                                 bias ? gb.data<float>() : nullptr, y.data<float>(), v);
          return std::vector<Tensor>{y};
        })[0];
        expect_close(got, want, d.in);
      }
    }
  }
}

TEST_P(LinearCuda, BackwardInputMatchesTheCpuTwin) {
  for (const Dims& d : kDims) {
    const Tensor dy = test::random_float({d.n, d.out}, 4), w = test::random_float({d.out, d.in}, 5);
    Tensor want = Tensor::empty({d.n, d.in});
    cpu::linear_backward_input<float>(d.n, d.in, d.out, dy.data<float>(), w.data<float>(),
                                      want.data<float>());
    for (GemmVersion v : kAllVersions) {
      SCOPED_TRACE(::testing::Message()
                   << "n=" << d.n << " in=" << d.in << " out=" << d.out << " v" << int(v));
      const Tensor got = test::run_all_schedules([&] {
        const Tensor gdy = test::to_gpu(dy), gw = test::to_gpu(w);
        Tensor dx = Tensor::full({d.n, d.in}, 7.0, DType::F32, Device::cuda());  // overwritten
        MT_GPU(linear_backward_input)(d.n, d.in, d.out, gdy.data<float>(), gw.data<float>(),
                                      dx.data<float>(), v);
        return std::vector<Tensor>{dx};
      })[0];
      expect_close(got, want, d.out);
    }
  }
}

// dw and db ACCUMULATE: they start from random values here, as after an
// earlier backward. Either may be skipped (nullptr), and x is then unused.
TEST_P(LinearCuda, BackwardWeightAccumulatesLikeTheCpuTwin) {
  for (const Dims& d : kDims) {
    const Tensor x = test::random_float({d.n, d.in}, 6), dy = test::random_float({d.n, d.out}, 7);
    const Tensor dw0 = test::random_float({d.out, d.in}, 8), db0 = test::random_float({d.out}, 9);
    for (int which = 0; which < 3; ++which) {  // 0: both, 1: dw only, 2: db only
      const bool want_dw = which != 2, want_db = which != 1;
      Tensor dw = dw0.copy(), db = db0.copy();
      cpu::linear_backward_weight<float>(d.n, d.in, d.out, want_dw ? x.data<float>() : nullptr,
                                         dy.data<float>(), want_dw ? dw.data<float>() : nullptr,
                                         want_db ? db.data<float>() : nullptr);
      for (GemmVersion v : kAllVersions) {
        SCOPED_TRACE(::testing::Message()
                     << "n=" << d.n << " in=" << d.in << " out=" << d.out << " dw=" << want_dw
                     << " db=" << want_db << " v" << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
          Tensor gdw = test::to_gpu(dw0), gdb = test::to_gpu(db0);
          MT_GPU(linear_backward_weight)(d.n, d.in, d.out, want_dw ? gx.data<float>() : nullptr,
                                         gdy.data<float>(), want_dw ? gdw.data<float>() : nullptr,
                                         want_db ? gdb.data<float>() : nullptr, v);
          return std::vector<Tensor>{gdw, gdb};
        });
        expect_close(got[0], dw, d.n);
        expect_close(got[1], db, d.n);
      }
    }
  }
}

// The engine op on the device against the same op on the CPU: y and every
// gradient, with and without bias, and with only some inputs needing one.
TEST_P(LinearCuda, AutogradThroughTheOpMatchesCpu) {
  const int64_t n = 5, in = 37, out = 11;
  const Tensor x = test::random_float({n, in}, 11), w = test::random_float({out, in}, 12);
  const Tensor b = test::random_float({out}, 13), gy = test::random_float({n, out}, 14);
  for (int mode = 0; mode < 3; ++mode) {  // 0: all grads, 1: no bias, 2: only w's grad
    SCOPED_TRACE(::testing::Message() << "mode " << mode);
    const bool bias = mode != 1, grad_x = mode != 2, grad_b = mode == 0;
    Tensor xc = x.copy(), wc = w.copy().set_requires_grad();
    Tensor bc = bias ? b.copy() : Tensor();
    if (grad_x) xc.set_requires_grad();
    if (grad_b) bc.set_requires_grad();
    const Tensor yc = ops::linear(xc, wc, bc);
    yc.backward(gy);

    const auto got = test::run_all_schedules([&] {
      Tensor xg = test::to_gpu(x), wg = test::to_gpu(w).set_requires_grad();
      Tensor bg = bias ? test::to_gpu(b) : Tensor();
      if (grad_x) xg.set_requires_grad();
      if (grad_b) bg.set_requires_grad();
      Tensor y = ops::linear(xg, wg, bg);
      y.backward(test::to_gpu(gy));
      return std::vector<Tensor>{y, xg.grad(), wg.grad(), bias ? bg.grad() : Tensor()};
    });
    expect_close(got[0], yc, in);
    EXPECT_EQ(got[1].defined(), grad_x);
    if (grad_x) expect_close(got[1], xc.grad(), out);
    expect_close(got[2], wc.grad(), n);
    EXPECT_EQ(got[3].defined(), grad_b);
    if (grad_b) expect_close(got[3], bc.grad(), n);
  }
}

TEST_P(LinearCuda, Float64IsRejectedOnTheDevice) {
  const Tensor x = Tensor::zeros({2, 3}, DType::F64, Device::cuda());
  const Tensor w = Tensor::zeros({4, 3}, DType::F64, Device::cuda());
  EXPECT_THROW(ops::linear(x, w, Tensor()), Error);
}

MT_GPU_TEST_SUITE(LinearCuda);

}  // namespace
}  // namespace medtex
