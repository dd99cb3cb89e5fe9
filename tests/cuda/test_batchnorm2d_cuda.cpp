// batchnorm2d on the GPU backends against its CPU twin: every launcher and
// every version, then the engine op with autograd, the running-statistics
// update and the nn layer under FreezeRunningStats.
//
// Tolerances. v1 is the CPU loop with the CPU's double sums in the CPU's
// order: bitwise equal. Evaluation has no reduction: bitwise for every
// version. v2 / v3 accumulate in float (Welford per thread, then a tree) where
// the CPU sums in double, so their statistics carry float rounding: relative
// 1e-6-ish on the mean and variance of M <= 5000 values; y and dx inherit it
// through (x - mean) * invstd, of size ~|x - mean| / std <= ~4 here. So
// atol 2e-5 + rtol 1e-5 on y, dx, the statistics and the running averages,
// and atol 1e-5 * sqrt(M) on dweight / dbias (sums of M terms of size ~1).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "kernels/batchnorm2d/batchnorm2d.h"
#include "kernels/batchnorm2d/batchnorm2d_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

using gpu::BatchNorm2dVersion;

class BatchNorm2dCuda : public test::GpuTest {};

const BatchNorm2dVersion kVersions[] = {BatchNorm2dVersion::kV1ThreadPerChannel,
                                        BatchNorm2dVersion::kV2BlockPerChannel,
                                        BatchNorm2dVersion::kV3SplitChannel};

struct Case {
  int64_t n, c, h, w;
};
// Odd planes (scalar path), planes of a multiple of 4 values (float4 path),
// batch 1, and two cases with M = N * H * W > 4096 that v3 splits over two
// blocks per channel (one with quads, one without).
const Case kCases[] = {{1, 3, 5, 7}, {2, 5, 6, 6}, {3, 4, 13, 11}, {2, 3, 48, 48}, {3, 3, 37, 41}};

std::string label(const Case& k, BatchNorm2dVersion v) {
  return "[" + std::to_string(k.n) + ", " + std::to_string(k.c) + ", " + std::to_string(k.h) +
         ", " + std::to_string(k.w) + "] v" + std::to_string(int(v));
}

cpu::BatchNorm2dShape shape_of(const Case& k) { return {k.n, k.c, k.h * k.w}; }

// Exact for v1 (and on evaluation paths), else the tolerance above. Prints the
// largest difference of the tolerance comparisons, for the record.
void expect_match(const char* what, const Tensor& got, const Tensor& want, bool exact, double atol,
                  double rtol = 1e-5) {
  if (exact) {
    EXPECT_TRUE(test::bitwise_equal(got, want))
        << what << " differs from the CPU twin; max |diff| " << test::max_abs_diff(got, want);
    return;
  }
  EXPECT_TRUE(test::all_close(got, want, atol, rtol)) << what;
  std::printf("    %-14s max |diff| %.3g\n", what, test::max_abs_diff(got, want));
}

TEST_P(BatchNorm2dCuda, TrainingForwardEveryVersionMatchesTheCpuTwin) {
  for (const Case& k : kCases) {
    const cpu::BatchNorm2dShape s = shape_of(k);
    // Values in [2, 5): a mean far from 0, as Welford has to cope with.
    const Tensor x = test::random_float({k.n, k.c, k.h, k.w}, uint64_t(k.h * 31 + k.w), 2.0, 5.0);
    const Tensor w = test::random_float({k.c}, 2, 0.5, 1.5), b = test::random_float({k.c}, 3);
    const Tensor rm0 = test::random_float({k.c}, 4), rv0 = test::random_float({k.c}, 5, 0.5, 2.0);
    Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({k.c}), invstd = Tensor::empty({k.c});
    Tensor rm = rm0.copy(), rv = rv0.copy();
    cpu::batchnorm2d_forward_train<float>(s, x.data<float>(), w.data<float>(), b.data<float>(),
                                          0.1, 1e-5, y.data<float>(), mean.data<float>(),
                                          invstd.data<float>(), rm.data<float>(), rv.data<float>());
    for (BatchNorm2dVersion v : kVersions) {
      SCOPED_TRACE(label(k, v));
      std::printf("  %s\n", label(k, v).c_str());
      for (bool running : {true, false}) {
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gb = test::to_gpu(b);
          Tensor grm = test::to_gpu(rm0), grv = test::to_gpu(rv0);
          Tensor gy = Tensor::empty(x.shape(), DType::F32, Device::cuda());
          Tensor gmean = Tensor::empty({k.c}, DType::F32, Device::cuda());
          Tensor ginvstd = Tensor::empty({k.c}, DType::F32, Device::cuda());
          MT_GPU(batchnorm2d_forward_train)(
              s, gx.data<float>(), gw.data<float>(), gb.data<float>(), 0.1, 1e-5, gy.data<float>(),
              gmean.data<float>(), ginvstd.data<float>(), running ? grm.data<float>() : nullptr,
              running ? grv.data<float>() : nullptr, v);
          return std::vector<Tensor>{gy, gmean, ginvstd, grm, grv};
        });
        const bool exact = v == BatchNorm2dVersion::kV1ThreadPerChannel;
        if (!running) {
          // Null running statistics are left alone; the rest is as above.
          EXPECT_TRUE(test::bitwise_equal(got[3], rm0));
          EXPECT_TRUE(test::bitwise_equal(got[4], rv0));
          expect_match("y (no running)", got[0], y, exact, 2e-5);
          continue;
        }
        expect_match("y", got[0], y, exact, 2e-5);
        expect_match("save_mean", got[1], mean, exact, 2e-5);
        expect_match("save_invstd", got[2], invstd, exact, 2e-5);
        expect_match("running_mean", got[3], rm, exact, 2e-5);
        expect_match("running_var", got[4], rv, exact, 2e-5);
      }
    }
  }
}

TEST_P(BatchNorm2dCuda, EvaluationForwardEveryVersionIsBitwiseTheCpuTwin) {
  for (const Case& k : kCases) {
    const cpu::BatchNorm2dShape s = shape_of(k);
    const Tensor x = test::random_float({k.n, k.c, k.h, k.w}, uint64_t(k.h * 7 + k.w), -3.0, 3.0);
    const Tensor w = test::random_float({k.c}, 2, 0.5, 1.5), b = test::random_float({k.c}, 3);
    const Tensor rm = test::random_float({k.c}, 4), rv = test::random_float({k.c}, 5, 0.5, 2.0);
    Tensor y = Tensor::empty(x.shape()), invstd = Tensor::empty({k.c});
    cpu::batchnorm2d_forward_eval<float>(s, x.data<float>(), w.data<float>(), b.data<float>(),
                                         rm.data<float>(), rv.data<float>(), 1e-5, y.data<float>(),
                                         invstd.data<float>());
    for (BatchNorm2dVersion v : kVersions) {
      SCOPED_TRACE(label(k, v));
      const auto got = test::run_all_schedules([&] {
        const Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gb = test::to_gpu(b);
        const Tensor grm = test::to_gpu(rm), grv = test::to_gpu(rv);
        Tensor gy = Tensor::empty(x.shape(), DType::F32, Device::cuda());
        Tensor ginvstd = Tensor::empty({k.c}, DType::F32, Device::cuda());
        MT_GPU(batchnorm2d_forward_eval)(s, gx.data<float>(), gw.data<float>(), gb.data<float>(),
                                         grm.data<float>(), grv.data<float>(), 1e-5,
                                         gy.data<float>(), ginvstd.data<float>(), v);
        return std::vector<Tensor>{gy, ginvstd};
      });
      expect_match("y", got[0], y, true, 0);
      expect_match("save_invstd", got[1], invstd, true, 0);
    }
  }
}

TEST_P(BatchNorm2dCuda, BackwardEveryVersionMatchesTheCpuTwin) {
  for (const Case& k : kCases) {
    const cpu::BatchNorm2dShape s = shape_of(k);
    const int64_t m = k.n * k.h * k.w;
    const Tensor x = test::random_float({k.n, k.c, k.h, k.w}, uint64_t(k.h * 13 + k.w), 2.0, 5.0);
    const Tensor dy = test::random_float(x.shape(), uint64_t(k.h * 17 + k.w));
    const Tensor w = test::random_float({k.c}, 2, 0.5, 1.5);
    // mean and invstd as a training forward would leave them.
    Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({k.c}), invstd = Tensor::empty({k.c});
    const Tensor b = test::random_float({k.c}, 3);
    cpu::batchnorm2d_forward_train<float>(s, x.data<float>(), w.data<float>(), b.data<float>(),
                                          0.1, 1e-5, y.data<float>(), mean.data<float>(),
                                          invstd.data<float>(), nullptr, nullptr);
    // dweight and dbias accumulate: start them away from 0.
    const Tensor dw0 = test::random_float({k.c}, 6), db0 = test::random_float({k.c}, 7);
    for (bool batch_stats : {true, false}) {
      Tensor dx = Tensor::empty(x.shape()), dw = dw0.copy(), db = db0.copy();
      cpu::batchnorm2d_backward<float>(s, batch_stats, x.data<float>(), dy.data<float>(),
                                       mean.data<float>(), invstd.data<float>(), w.data<float>(),
                                       dx.data<float>(), dw.data<float>(), db.data<float>());
      for (BatchNorm2dVersion v : kVersions) {
        SCOPED_TRACE(label(k, v) + (batch_stats ? " batch statistics" : " running statistics"));
        std::printf("  %s%s\n", label(k, v).c_str(), batch_stats ? "" : " (eval backward)");
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy), gw = test::to_gpu(w);
          const Tensor gmean = test::to_gpu(mean), ginvstd = test::to_gpu(invstd);
          Tensor gdx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
          Tensor gdw = test::to_gpu(dw0), gdb = test::to_gpu(db0);
          MT_GPU(batchnorm2d_backward)(s, batch_stats, gx.data<float>(), gdy.data<float>(),
                                       gmean.data<float>(), ginvstd.data<float>(),
                                       gw.data<float>(), gdx.data<float>(), gdw.data<float>(),
                                       gdb.data<float>(), v);
          return std::vector<Tensor>{gdx, gdw, gdb};
        });
        const bool exact = v == BatchNorm2dVersion::kV1ThreadPerChannel;
        // Without batch statistics dx = weight * invstd * dy: no reduction.
        expect_match("dx", got[0], dx, exact || !batch_stats, 2e-5);
        expect_match("dweight", got[1], dw, exact, 1e-5 * std::sqrt(double(m)));
        expect_match("dbias", got[2], db, exact, 1e-5 * std::sqrt(double(m)));
      }
    }
  }
}

// Misaligned tensors (an offset of one float) take the scalar path of v2 and
// v3 even where the planes hold a multiple of 4 values.
TEST_P(BatchNorm2dCuda, MisalignedTensorsTakeTheScalarPath) {
  const Case k{2, 3, 48, 48};
  const cpu::BatchNorm2dShape s = shape_of(k);
  const int64_t n = k.n * k.c * k.h * k.w;
  const Tensor x = test::random_float({n + 1}, 21, -2.0, 2.0);
  const Tensor w = test::random_float({k.c}, 2, 0.5, 1.5), b = test::random_float({k.c}, 3);
  Tensor y = Tensor::empty({n}), mean = Tensor::empty({k.c}), invstd = Tensor::empty({k.c});
  cpu::batchnorm2d_forward_train<float>(s, x.data<float>() + 1, w.data<float>(), b.data<float>(),
                                        0.1, 1e-5, y.data<float>(), mean.data<float>(),
                                        invstd.data<float>(), nullptr, nullptr);
  for (BatchNorm2dVersion v : kVersions) {
    SCOPED_TRACE(label(k, v));
    const auto got = test::run_all_schedules([&] {
      const Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gb = test::to_gpu(b);
      Tensor gy = Tensor::zeros({n + 1}, DType::F32, Device::cuda());
      Tensor gmean = Tensor::empty({k.c}, DType::F32, Device::cuda());
      Tensor ginvstd = Tensor::empty({k.c}, DType::F32, Device::cuda());
      MT_GPU(batchnorm2d_forward_train)(s, gx.data<float>() + 1, gw.data<float>(),
                                        gb.data<float>(), 0.1, 1e-5, gy.data<float>() + 1,
                                        gmean.data<float>(), ginvstd.data<float>(), nullptr,
                                        nullptr, v);
      return std::vector<Tensor>{gy, gmean};
    });
    const auto gy = got[0].to_vector<float>();
    EXPECT_EQ(gy[0], 0.f);  // nothing written before the view
    const Tensor y_view = Tensor::from_vector(std::vector<float>(gy.begin() + 1, gy.end()), {n});
    const bool exact = v == BatchNorm2dVersion::kV1ThreadPerChannel;
    expect_match("y (offset 1)", y_view, y, exact, 2e-5);
    expect_match("mean (offset 1)", got[1], mean, exact, 2e-5);
  }
}

// The engine op on the device, forward and backward, in its three modes:
// training with the running update, training without (the MED-TEX masked
// pass), and evaluation.
TEST_P(BatchNorm2dCuda, OpWithAutogradMatchesCpu) {
  const Tensor x = test::random_float({3, 5, 9, 7}, 8, -1.0, 3.0);
  const Tensor w = test::random_float({5}, 9, 0.5, 1.5), b = test::random_float({5}, 10);
  const Tensor rm0 = test::random_float({5}, 11), rv0 = test::random_float({5}, 12, 0.5, 2.0);
  const Tensor dy = test::random_float(x.shape(), 13);
  struct Mode {
    const char* name;
    bool training, update;
  };
  for (const Mode mode : {Mode{"train+update", true, true}, Mode{"train frozen", true, false},
                          Mode{"eval", false, false}}) {
    SCOPED_TRACE(mode.name);
    Tensor xc = x.copy().set_requires_grad(), wc = w.copy().set_requires_grad();
    Tensor bc = b.copy().set_requires_grad();
    Tensor rm = rm0.copy(), rv = rv0.copy();
    const Tensor yc = ops::batchnorm2d(xc, wc, bc, rm, rv, mode.training, 0.1, 1e-5, mode.update);
    yc.backward(dy);
    const auto got = test::run_all_schedules([&] {
      Tensor gx = test::to_gpu(x).set_requires_grad(), gw = test::to_gpu(w).set_requires_grad();
      Tensor gb = test::to_gpu(b).set_requires_grad();
      Tensor grm = test::to_gpu(rm0), grv = test::to_gpu(rv0);
      const Tensor gy =
          ops::batchnorm2d(gx, gw, gb, grm, grv, mode.training, 0.1, 1e-5, mode.update);
      gy.backward(test::to_gpu(dy));
      EXPECT_TRUE(gy.device().is_cuda());
      return std::vector<Tensor>{gy, gx.grad(), gw.grad(), gb.grad(), grm, grv};
    });
    // The default version (v3). Evaluation: y and dx have no reduction, so
    // they are exact; dweight and dbias are still float sums.
    const bool exact = !mode.training;
    expect_match("y", got[0], yc, exact, 2e-5);
    expect_match("dx", got[1], xc.grad(), exact, 2e-5);
    expect_match("dweight", got[2], wc.grad(), false, 1e-5 * std::sqrt(3.0 * 9 * 7));
    expect_match("dbias", got[3], bc.grad(), false, 1e-5 * std::sqrt(3.0 * 9 * 7));
    expect_match("running_mean", got[4], rm, exact, 2e-5);
    expect_match("running_var", got[5], rv, exact, 2e-5);
    if (!mode.update) {
      EXPECT_TRUE(test::bitwise_equal(got[4], rm0));
      EXPECT_TRUE(test::bitwise_equal(got[5], rv0));
    } else {
      EXPECT_FALSE(test::bitwise_equal(got[4], rm0));
    }
  }
}

// nn::BatchNorm2d with its tensors on the device: FreezeRunningStats keeps
// the running averages (and num_batches_tracked, a host counter) and still
// normalises with the batch statistics; unfrozen, they move as on the CPU.
TEST_P(BatchNorm2dCuda, LayerUnderFreezeRunningStatsMatchesCpu) {
  const Tensor x = test::random_float({4, 3, 5, 5}, 14, -1.0, 5.0);
  nn::BatchNorm2d cpu_bn(3);
  cpu_bn.train();
  Tensor y_frozen_cpu, y_cpu;
  {
    nn::FreezeRunningStats freeze;
    y_frozen_cpu = cpu_bn.forward(x);
  }
  y_cpu = cpu_bn.forward(x);
  const auto got = test::run_all_schedules([&] {
    nn::BatchNorm2d bn(3);
    bn.train();
    bn.weight = test::to_gpu(bn.weight);
    bn.bias = test::to_gpu(bn.bias);
    bn.running_mean = test::to_gpu(bn.running_mean);
    bn.running_var = test::to_gpu(bn.running_var);
    const Tensor rm0 = bn.running_mean.to(Device::cpu()), rv0 = bn.running_var.to(Device::cpu());
    Tensor y_frozen;
    {
      nn::FreezeRunningStats freeze;
      y_frozen = bn.forward(test::to_gpu(x));
    }
    EXPECT_EQ(bn.num_batches_tracked.item(), 0);
    EXPECT_TRUE(test::bitwise_equal(bn.running_mean.to(Device::cpu()), rm0));
    EXPECT_TRUE(test::bitwise_equal(bn.running_var.to(Device::cpu()), rv0));
    const Tensor y = bn.forward(test::to_gpu(x));
    EXPECT_EQ(bn.num_batches_tracked.item(), 1);
    return std::vector<Tensor>{y_frozen, y, bn.running_mean.copy(), bn.running_var.copy()};
  });
  expect_match("y (frozen)", got[0], y_frozen_cpu, false, 2e-5);
  expect_match("y", got[1], y_cpu, false, 2e-5);
  expect_match("running_mean", got[2], cpu_bn.running_mean, false, 2e-5);
  expect_match("running_var", got[3], cpu_bn.running_var, false, 2e-5);
}

TEST_P(BatchNorm2dCuda, EmptyBatchLaunchesNothingAndFloat64IsRefused) {
  for (BatchNorm2dVersion v : kVersions) {
    // C = 0: nothing to do, nothing touched.
    MT_GPU(batchnorm2d_forward_train)({2, 0, 4}, nullptr, nullptr, nullptr, 0.1, 1e-5, nullptr,
                                      nullptr, nullptr, nullptr, nullptr, v);
    MT_GPU(batchnorm2d_backward)({2, 0, 4}, true, nullptr, nullptr, nullptr, nullptr, nullptr,
                                 nullptr, nullptr, nullptr, v);
  }
  const Tensor x = Tensor::zeros({2, 3, 4, 4}, DType::F64, Device::cuda());
  const Tensor p = Tensor::ones({3}, DType::F64, Device::cuda());
  EXPECT_THROW(ops::batchnorm2d(x, p, p, p, p, true), Error);
}

MT_GPU_TEST_SUITE(BatchNorm2dCuda);

}  // namespace
}  // namespace medtex
