// conv2d on the GPU backends against its CPU twin: every pass, every kernel
// version, odd shapes; then the engine op with autograd.
//
// Tolerance. The GPU sums each output over its reduction (C*R*S taps for y,
// K*R*S for dx, N*OH*OW pixels for dw and db) in another order than the CPU
// twin (im2col + blocked GEMM, batch groups for dw), and nvcc fuses
// multiply-adds. With inputs in [-1, 1] each of the L rounding steps is at
// most 2^-24 of a partial sum of size <= sqrt(L) typically, so differences
// stay near L * 6e-8. Measured in the emulator: y bitwise equal, dx <= 2.4e-6
// (L <= 147), dw/db <= 1.2e-5 (L = 432, sums of size ~20 added to dw). So
// atol = 1e-6 * L + rtol 1e-5 leaves a >10x margin and still fails on a wrong
// or missing tap (an error of order 0.1).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv2d_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

using gpu::Conv2dVersion;

class Conv2dCuda : public test::GpuTest {};

constexpr Conv2dVersion kVersions[] = {Conv2dVersion::kV1Direct, Conv2dVersion::kV2SharedTiles,
                                       Conv2dVersion::kV3RegisterTiles};

struct Case {
  int64_t N, C, H, W, K, R, S, stride, padding;
  const char* what;
  cpu::Conv2dParams params() const {
    return cpu::Conv2dParams::make(N, C, H, W, K, R, S, stride, padding);
  }
};

// Odd sizes, none a multiple of a tile (v2: 16x16x16, v3: 64x64x16) except where
// a case is there for the float4 paths.
const Case kCases[] = {
    {1, 3, 7, 7, 5, 3, 3, 1, 1, "3x3 s1 p1, batch 1"},
    {2, 3, 9, 11, 17, 3, 3, 2, 1, "3x3 s2 p1, H != W, K over one v2 tile"},
    {2, 3, 9, 9, 67, 1, 1, 2, 0, "1x1 s2 p0 (shortcut), K over one v3 tile"},
    {1, 3, 11, 11, 5, 7, 7, 2, 3, "7x7 s2 p3 (stem), C*R*S = 147 over two v3 tiles"},
    {2, 3, 8, 7, 5, 5, 3, 1, 2, "5x3 kernel, padding 2, weight grad in 2 slices"},
    {3, 4, 12, 12, 6, 3, 3, 1, 1, "C*R*S and OH*OW multiples of 4 (float4 w and dy), 4 slices"},
    {2, 5, 10, 9, 3, 2, 3, 3, 2, "stride 3 larger than the 2x3 kernel, odd C"},
};

std::string label(const Case& c, Conv2dVersion v) {
  return std::string(c.what) + ", v" + std::to_string(int(v));
}

Shape x_shape(const cpu::Conv2dParams& p) { return {p.N, p.C, p.H, p.W}; }
Shape w_shape(const cpu::Conv2dParams& p) { return {p.K, p.C, p.R, p.S}; }
Shape y_shape(const cpu::Conv2dParams& p) { return {p.N, p.K, p.OH, p.OW}; }

// Largest |gpu - cpu| seen per (pass, version), printed once per test.
struct MaxDiffs {
  std::map<std::string, double> seen;
  void add(const std::string& key, double d) { seen[key] = std::max(seen[key], d); }
  ~MaxDiffs() {
    for (const auto& [key, d] : seen) std::printf("  max |gpu - cpu| %-24s %.3g\n", key.c_str(), d);
  }
};

void expect_close(const Tensor& got, const Tensor& want, int64_t reduction, const std::string& key,
                  MaxDiffs& diffs) {
  const double atol = 1e-6 * double(std::max<int64_t>(reduction, 1)), rtol = 1e-5;
  EXPECT_TRUE(test::all_close(got, want, atol, rtol)) << key;
  diffs.add(key, test::max_abs_diff(got, want));
}

TEST_P(Conv2dCuda, ForwardEveryVersionMatchesTheCpuTwin) {
  MaxDiffs diffs;
  uint64_t seed = 100;
  for (const Case& c : kCases) {
    const cpu::Conv2dParams p = c.params();
    const Tensor x = test::random_float(x_shape(p), ++seed);
    const Tensor w = test::random_float(w_shape(p), ++seed);
    const Tensor b = test::random_float({p.K}, ++seed);
    for (const bool bias : {true, false}) {
      Tensor y_cpu = Tensor::empty(y_shape(p));
      cpu::conv2d_forward<float>(p, x.data<float>(), w.data<float>(),
                                 bias ? b.data<float>() : nullptr, y_cpu.data<float>());
      for (const Conv2dVersion v : kVersions) {
        SCOPED_TRACE(label(c, v) + (bias ? ", bias" : ", no bias"));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gb = test::to_gpu(b);
          Tensor gy = Tensor::empty(y_shape(p), DType::F32, Device::cuda());
          MT_GPU(conv2d_forward)(p, gx.data<float>(), gw.data<float>(),
                                 bias ? gb.data<float>() : nullptr, gy.data<float>(), v);
          return std::vector<Tensor>{gy};
        });
        expect_close(got[0], y_cpu, p.C * p.R * p.S, "forward v" + std::to_string(int(v)), diffs);
      }
    }
  }
}

TEST_P(Conv2dCuda, BackwardInputEveryVersionMatchesTheCpuTwin) {
  MaxDiffs diffs;
  uint64_t seed = 200;
  for (const Case& c : kCases) {
    const cpu::Conv2dParams p = c.params();
    const Tensor dy = test::random_float(y_shape(p), ++seed);
    const Tensor w = test::random_float(w_shape(p), ++seed);
    Tensor dx_cpu = Tensor::empty(x_shape(p));
    cpu::conv2d_backward_input<float>(p, dy.data<float>(), w.data<float>(), dx_cpu.data<float>());
    for (const Conv2dVersion v : kVersions) {
      SCOPED_TRACE(label(c, v));
      const auto got = test::run_all_schedules([&] {
        const Tensor gdy = test::to_gpu(dy), gw = test::to_gpu(w);
        // NaN first: every element must be overwritten.
        Tensor gdx = Tensor::full(x_shape(p), std::nan(""), DType::F32, Device::cuda());
        MT_GPU(conv2d_backward_input)(p, gdy.data<float>(), gw.data<float>(), gdx.data<float>(), v);
        return std::vector<Tensor>{gdx};
      });
      expect_close(got[0], dx_cpu, p.K * p.R * p.S, "backward_input v" + std::to_string(int(v)),
                   diffs);
    }
  }
}

// dw and db start from nonzero values: the kernels must add to them. Also
// each output alone (the other nullptr; x nullptr too when dw is skipped).
TEST_P(Conv2dCuda, BackwardWeightEveryVersionAccumulatesLikeTheCpuTwin) {
  MaxDiffs diffs;
  uint64_t seed = 300;
  enum Outputs { kBoth, kWeightOnly, kBiasOnly };
  for (const Case& c : kCases) {
    const cpu::Conv2dParams p = c.params();
    const Tensor x = test::random_float(x_shape(p), ++seed);
    const Tensor dy = test::random_float(y_shape(p), ++seed);
    const Tensor dw0 = test::random_float(w_shape(p), ++seed);
    const Tensor db0 = test::random_float({p.K}, ++seed);
    for (const Outputs outputs : {kBoth, kWeightOnly, kBiasOnly}) {
      const bool want_w = outputs != kBiasOnly, want_b = outputs != kWeightOnly;
      Tensor dw_cpu = dw0.copy(), db_cpu = db0.copy();
      cpu::conv2d_backward_weight<float>(p, want_w ? x.data<float>() : nullptr, dy.data<float>(),
                                         want_w ? dw_cpu.data<float>() : nullptr,
                                         want_b ? db_cpu.data<float>() : nullptr);
      for (const Conv2dVersion v : kVersions) {
        SCOPED_TRACE(label(c, v) + " outputs " + std::to_string(int(outputs)));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
          Tensor gdw = test::to_gpu(dw0), gdb = test::to_gpu(db0);
          MT_GPU(conv2d_backward_weight)(p, want_w ? gx.data<float>() : nullptr, gdy.data<float>(),
                                         want_w ? gdw.data<float>() : nullptr,
                                         want_b ? gdb.data<float>() : nullptr, v);
          return std::vector<Tensor>{gdw, gdb};
        });
        const std::string suffix = " v" + std::to_string(int(v));
        // An output that is skipped must come back untouched.
        if (want_w) {
          expect_close(got[0], dw_cpu, p.N * p.OH * p.OW, "backward_weight dw" + suffix, diffs);
        } else {
          EXPECT_TRUE(test::bitwise_equal(got[0], dw0));
        }
        if (want_b) {
          expect_close(got[1], db_cpu, p.N * p.OH * p.OW, "backward_weight db" + suffix, diffs);
        } else {
          EXPECT_TRUE(test::bitwise_equal(got[1], db0));
        }
      }
    }
  }
}

// The cases above reach both weight-gradient paths of v2 and v3: one slice
// (dw += straight from the GEMM) and several (partials + the ordered reduce).
TEST_P(Conv2dCuda, CasesCoverOneAndSeveralWeightSlices) {
  for (const Conv2dVersion v : {Conv2dVersion::kV2SharedTiles, Conv2dVersion::kV3RegisterTiles}) {
    int64_t fewest = INT64_MAX, most = 0;
    for (const Case& c : kCases) {
      const gpu::Conv2dWeightSplit s = gpu::conv2d_weight_split(c.params(), v);
      fewest = std::min(fewest, s.slices), most = std::max(most, s.slices);
      EXPECT_GE(s.depth * s.slices, c.N * c.params().OH * c.params().OW);
      EXPECT_LT(s.depth * (s.slices - 1), c.N * c.params().OH * c.params().OW);
    }
    EXPECT_EQ(fewest, 1) << "v" << int(v);
    EXPECT_GE(most, 3) << "v" << int(v);
  }
  // The nets' layers split into many slices.
  const auto student = cpu::Conv2dParams::make(32, 32, 32, 32, 64, 3, 3, 1, 1);
  EXPECT_GT(gpu::conv2d_weight_split(student, Conv2dVersion::kV3RegisterTiles).slices, 16);
}

// An empty batch: nothing to compute, nothing launched, parameter gradients untouched.
TEST_P(Conv2dCuda, EmptyBatchLeavesEverythingAlone) {
  const cpu::Conv2dParams p = cpu::Conv2dParams::make(0, 3, 7, 7, 5, 3, 3, 1, 1);
  const Tensor dw0 = test::random_float(w_shape(p), 1), db0 = test::random_float({p.K}, 2);
  for (const Conv2dVersion v : kVersions) {
    const Tensor gw = test::to_gpu(dw0);
    Tensor gdw = test::to_gpu(dw0), gdb = test::to_gpu(db0);
    MT_GPU(conv2d_forward)(p, nullptr, gw.data<float>(), nullptr, nullptr, v);
    MT_GPU(conv2d_backward_input)(p, nullptr, gw.data<float>(), nullptr, v);
    MT_GPU(conv2d_backward_weight)(p, nullptr, nullptr, gdw.data<float>(), gdb.data<float>(), v);
    EXPECT_TRUE(test::bitwise_equal(gdw.to(Device::cpu()), dw0));
    EXPECT_TRUE(test::bitwise_equal(gdb.to(Device::cpu()), db0));
  }
}

// The engine op on the device (default versions) against the same op on the
// CPU: y and every gradient autograd produces.
TEST_P(Conv2dCuda, AutogradThroughTheOpMatchesCpu) {
  MaxDiffs diffs;
  struct OpCase {
    Shape x, w;
    bool bias;
    int stride, padding;
  };
  const OpCase cases[] = {
      {{2, 3, 9, 10}, {7, 3, 3, 3}, true, 2, 1},
      {{1, 5, 7, 7}, {4, 5, 5, 3}, false, 1, 0},
      {{2, 4, 12, 12}, {6, 4, 1, 1}, true, 1, 0},
  };
  uint64_t seed = 400;
  for (const OpCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "x " << c.x << " w " << c.w << " stride " << c.stride);
    const Tensor x = test::random_float(c.x, ++seed), w = test::random_float(c.w, ++seed);
    const Tensor b = c.bias ? test::random_float({c.w[0]}, ++seed) : Tensor();
    Tensor xc = x.copy().set_requires_grad(), wc = w.copy().set_requires_grad();
    Tensor bc = c.bias ? b.copy().set_requires_grad() : Tensor();
    Tensor yc = ops::conv2d(xc, wc, bc, c.stride, c.padding);
    const Tensor dy = test::random_float(yc.shape(), ++seed);
    yc.backward(dy);
    const auto got = test::run_all_schedules([&] {
      Tensor xg = test::to_gpu(x).set_requires_grad(), wg = test::to_gpu(w).set_requires_grad();
      Tensor bg = c.bias ? test::to_gpu(b).set_requires_grad() : Tensor();
      Tensor y = ops::conv2d(xg, wg, bg, c.stride, c.padding);
      y.backward(test::to_gpu(dy));
      return std::vector<Tensor>{y, xg.grad(), wg.grad(), c.bias ? bg.grad() : Tensor()};
    });
    const cpu::Conv2dParams p = cpu::Conv2dParams::make(c.x[0], c.x[1], c.x[2], c.x[3], c.w[0],
                                                        c.w[2], c.w[3], c.stride, c.padding);
    expect_close(got[0], yc, p.C * p.R * p.S, "op y", diffs);
    expect_close(got[1], xc.grad(), p.K * p.R * p.S, "op dx", diffs);
    expect_close(got[2], wc.grad(), p.N * p.OH * p.OW, "op dw", diffs);
    if (c.bias) expect_close(got[3], bc.grad(), p.N * p.OH * p.OW, "op db", diffs);
  }
}

MT_GPU_TEST_SUITE(Conv2dCuda);

}  // namespace
}  // namespace medtex
