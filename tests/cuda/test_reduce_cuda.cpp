// Reductions on the GPU backends against their CPU twins: reduce_sum (sum and
// mean over any dims) and sum_partials (the losses' totals), max / argmax
// forward and backward, every kernel version, then the engine ops with
// autograd on the device.
//
// Tolerances: reduce_sum v1, and v2 when the innermost dim is kept, add in
// the CPU's order (chunks of 4096 in double): bitwise, on a GPU too (double
// additions, nothing to fuse). v2 with the innermost dim reduced adds by a
// block tree in double, rounded once to float: within an ulp or so of the
// CPU: atol 1e-6 + rtol 1e-6 for sums of up to 9000 values in [-1, 1] (the
// double sum's error is ~1e-13, far below the float rounding).
// sum_partials v1 is the CPU's ordered sum (bitwise); v2 a tree (rtol 1e-12
// on the double total before the float rounding: compared as float, 1 ulp).
// max picks an element: bitwise everywhere, indices equal.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/max/max.h"
#include "kernels/max/max_cuda.h"
#include "kernels/reduce/reduce.h"
#include "kernels/reduce/reduce_cuda.h"
#include "tests/cuda/cpu_twin_match.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class ReduceCuda : public test::GpuTest {};

using RV = gpu::ReduceVersion;
constexpr RV kReduceVersions[] = {RV::kV1PerOutput, RV::kV2Block};
using MV = gpu::MaxVersion;
constexpr MV kMaxVersions[] = {MV::kV1Thread, MV::kV2Warp};

Tensor gpu_zeros(const Shape& s, DType t = DType::F32) {
  return Tensor::zeros(s, t, Device::cuda());
}

Shape reduced_shape(const Shape& s, uint32_t mask) {
  Shape out;
  for (size_t d = 0; d < s.size(); ++d) out.push_back((mask >> d) & 1u ? 1 : s[d]);
  return out;
}

bool innermost_kept(const Shape& s, uint32_t mask) {
  for (int d = int(s.size()) - 1; d >= 0; --d)
    if (s[size_t(d)] != 1) return !((mask >> d) & 1u);
  return true;
}

struct ReduceCase {
  Shape shape;
  std::vector<uint32_t> masks;
};

// Every mask of an odd 4D shape; long reductions whose chunks (4096 for the
// CPU order, 4096 for v2's blocks) do not divide the length, both with the
// innermost dim reduced and kept; a short reduction (v2's warp path) and a
// longer one (its block path); empty reductions and outputs; a 0-dim tensor.
std::vector<ReduceCase> reduce_cases() {
  std::vector<uint32_t> all16;
  for (uint32_t m = 0; m < 16; ++m) all16.push_back(m);
  return {
      {{2, 3, 5, 7}, all16},
      {{1, 3, 1, 5}, {0b1010, 0b0101, 0b1111}},
      {{3, 9000}, {0b10, 0b11}},
      {{9000, 3}, {0b01}},
      {{2, 5000, 3}, {0b011, 0b010}},
      {{4, 300}, {0b10}},
      {{0, 3}, {0b01, 0b10}},
      {{3, 0}, {0b10, 0b01}},
      {{}, {0}},
  };
}

TEST_P(ReduceCuda, ReduceSumEveryMaskAndVersionMatchesCpu) {
  uint64_t seed = 1;
  for (const ReduceCase& rc : reduce_cases()) {
    const Tensor x = test::random_float(rc.shape, ++seed);
    for (uint32_t mask : rc.masks) {
      const Shape out = reduced_shape(rc.shape, mask);
      int64_t count = 1;
      for (size_t d = 0; d < rc.shape.size(); ++d)
        if ((mask >> d) & 1u) count *= rc.shape[d];
      for (bool mean : {false, true}) {
        const double divisor = mean ? double(count) : 1.0;
        Tensor want = Tensor::zeros(out);
        cpu::reduce_sum<float>(int(rc.shape.size()), rc.shape.data(), mask, x.data<float>(),
                               want.data<float>(), divisor);
        for (RV v : kReduceVersions) {
          SCOPED_TRACE(::testing::Message() << rc.shape << " mask " << mask
                                            << (mean ? " mean" : " sum") << " v" << int(v));
          const auto got = test::run_all_schedules([&] {
            const Tensor g = test::to_gpu(x);
            Tensor y = gpu_zeros(out);
            MT_GPU(reduce_sum)(int(rc.shape.size()), rc.shape.data(), mask, g.data<float>(),
                               y.data<float>(), divisor, v);
            return std::vector<Tensor>{y};
          });
          const bool exact = v == RV::kV1PerOutput || innermost_kept(rc.shape, mask);
          if (count == 0 && mean) {  // 0 / 0: NaN, the same NaN bits as the CPU's
            EXPECT_TRUE(test::bitwise_equal(got[0], want));
            continue;
          }
          // exact does not need the emulator here: double additions only.
          EXPECT_TRUE(test::matches_cpu("reduce_sum", got[0], want, exact, 1e-6, 1e-6));
        }
      }
    }
  }
}

TEST_P(ReduceCuda, SumPartialsV1IsTheOrderedSumV2IsClose) {
  for (int64_t n : {1, 5, 300, 5000}) {
    const Tensor parts = test::random_double({n}, uint64_t(n), -3, 3);
    double s = 0;
    for (double p : parts.to_vector<double>()) s += p;
    const Tensor want = Tensor::full({1}, float(s / 7.0));
    for (RV v : kReduceVersions) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " v" << int(v));
      const auto got = test::run_all_schedules([&] {
        const Tensor g = test::to_gpu(parts);
        Tensor out = gpu_zeros({1});
        MT_GPU(sum_partials)(n, g.data<double>(), 7.0, out.data<float>(), v);
        return std::vector<Tensor>{out};
      });
      EXPECT_TRUE(test::matches_cpu("sum_partials", got[0], want, v == RV::kV1PerOutput, 0,
                                    2e-7));  // one float ulp
    }
  }
}

TEST_P(ReduceCuda, SumAndMeanAutogradMatchCpu) {
  const Tensor x = test::random_float({2, 3, 5, 7}, 11);
  struct Case {
    std::vector<int> dims;
    bool keepdim, mean;
  };
  for (const Case& c : {Case{{1}, false, false}, Case{{0, 2, 3}, true, true},
                        Case{{-1}, false, true}, Case{{}, false, false}}) {
    SCOPED_TRACE(::testing::Message() << "dims " << c.dims.size() << " mean " << c.mean);
    Tensor xc = x.copy().set_requires_grad();
    const Tensor yc = c.mean ? ops::mean(xc, c.dims, c.keepdim) : ops::sum(xc, c.dims, c.keepdim);
    const Tensor dy = test::random_float(yc.shape(), 5);
    yc.backward(dy);
    const auto got = test::run_all_schedules([&] {
      Tensor xg = test::to_gpu(x).set_requires_grad();
      const Tensor y = c.mean ? ops::mean(xg, c.dims, c.keepdim) : ops::sum(xg, c.dims, c.keepdim);
      y.backward(test::to_gpu(dy));
      return std::vector<Tensor>{y, xg.grad()};
    });
    EXPECT_TRUE(test::matches_cpu("sum/mean", got[0], yc, false, 1e-6, 1e-6));
    EXPECT_TRUE(test::matches_cpu("sum/mean backward", got[1], xc.grad(), true, 0, 0));
  }
}

// ---- max / argmax ------------------------------------------------------------

// x with ties (values on a coarse grid) and, when `nans`, a few NaNs: the
// tie and NaN rules are what the versions could get wrong.
Tensor max_input(const Shape& s, uint64_t seed, bool nans) {
  std::vector<float> v = test::random_float(s, seed).to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::round(v[i] * 4.f) / 4.f;  // many ties
  if (nans)
    for (size_t i = 3; i < v.size(); i += 37) v[i] = std::nanf("");
  return Tensor::from_vector(v, s);
}

TEST_P(ReduceCuda, MaxForwardAndBackwardEveryVersionBitForBit) {
  struct Case {
    int64_t outer, D, inner;
  };
  // Rows of 1, 5, 33, 1000 (v2's warp path) and 1500 (its block path), and
  // columns (inner > 1, v1's kernel in both versions).
  const std::vector<Case> cases = {{3, 1, 1},  {4, 5, 1},  {3, 33, 1}, {2, 1000, 1},
                                   {2, 1500, 1}, {2, 5, 3}, {1, 33, 7}, {3, 1, 4}};
  uint64_t seed = 100;
  for (const Case& c : cases) {
    for (bool nans : {false, true}) {
      const Shape s = {c.outer, c.D, c.inner};
      const Tensor x = max_input(s, ++seed, nans);
      const Tensor dy = test::random_float({c.outer, c.inner}, ++seed);
      Tensor y = Tensor::zeros({c.outer, c.inner}),
             idx = Tensor::zeros({c.outer, c.inner}, DType::I64);
      Tensor dx = Tensor::zeros(s);
      cpu::max_forward<float>(c.outer, c.D, c.inner, x.data<float>(), y.data<float>(),
                              idx.data<int64_t>());
      cpu::max_backward<float>(c.outer, c.D, c.inner, idx.data<int64_t>(), dy.data<float>(),
                               dx.data<float>());
      for (MV v : kMaxVersions) {
        SCOPED_TRACE(::testing::Message() << "[" << c.outer << ", " << c.D << ", " << c.inner
                                          << "] nans " << nans << " v" << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
          Tensor gy = gpu_zeros({c.outer, c.inner}), gi = gpu_zeros({c.outer, c.inner}, DType::I64);
          Tensor ga = gpu_zeros({c.outer, c.inner}, DType::I64), gdx = gpu_zeros(s);
          MT_GPU(max_forward)(c.outer, c.D, c.inner, gx.data<float>(), gy.data<float>(),
                              gi.data<int64_t>(), v);
          MT_GPU(max_forward)(c.outer, c.D, c.inner, gx.data<float>(), nullptr, ga.data<int64_t>(),
                              v);  // argmax only
          MT_GPU(max_backward)(c.outer, c.D, c.inner, gi.data<int64_t>(), gdy.data<float>(),
                               gdx.data<float>(), v);
          return std::vector<Tensor>{gy, gi, ga, gdx};
        });
        EXPECT_TRUE(test::bitwise_equal(got[0], y));
        EXPECT_TRUE(test::bitwise_equal(got[1], idx));
        EXPECT_TRUE(test::bitwise_equal(got[2], idx));
        EXPECT_TRUE(test::bitwise_equal(got[3], dx));
      }
    }
  }
}

TEST_P(ReduceCuda, MaxPicksTheFirstTieAndTheFirstNan) {
  const float nan = std::nanf("");
  // Row 0: ties at 1 and 2 -> 1. Row 1: NaNs at 2 and 4 -> 2. Row 2: -0 before +0 -> 0.
  const Tensor x = Tensor::from_vector<float>(
      {1, 3, 3, 2, 0, 1, 5, nan, 9, nan, -0.f, 0.f, -1, -2, -3}, {3, 5});
  for (MV v : kMaxVersions) {
    const auto got = test::run_all_schedules([&] {
      const Tensor g = test::to_gpu(x);
      Tensor y = gpu_zeros({3}), i = gpu_zeros({3}, DType::I64);
      MT_GPU(max_forward)(3, 5, 1, g.data<float>(), y.data<float>(), i.data<int64_t>(), v);
      return std::vector<Tensor>{y, i};
    });
    EXPECT_EQ(got[1].to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0})) << "v" << int(v);
    EXPECT_TRUE(std::signbit(got[0].to_vector<float>()[2])) << "v" << int(v);
  }
}

TEST_P(ReduceCuda, MaxAndArgmaxThroughTheEngineMatchCpu) {
  const Tensor x = max_input({2, 3, 5, 7}, 21, false);
  for (int dim : {-1, 1}) {
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "dim " << dim << " keepdim " << keepdim);
      Tensor xc = x.copy().set_requires_grad();
      const Tensor yc = ops::max(xc, dim, keepdim);
      const Tensor dy = test::random_float(yc.shape(), 9);
      yc.backward(dy);
      const auto got = test::run_all_schedules([&] {
        Tensor xg = test::to_gpu(x).set_requires_grad();
        const Tensor y = ops::max(xg, dim, keepdim);
        y.backward(test::to_gpu(dy));
        return std::vector<Tensor>{y, xg.grad(), ops::argmax(test::to_gpu(x), dim)};
      });
      EXPECT_TRUE(test::bitwise_equal(got[0], yc));
      EXPECT_TRUE(test::bitwise_equal(got[1], xc.grad()));
      EXPECT_TRUE(test::bitwise_equal(got[2], ops::argmax(x, dim)));
    }
  }
}

MT_GPU_TEST_SUITE(ReduceCuda);

}  // namespace
}  // namespace medtex
