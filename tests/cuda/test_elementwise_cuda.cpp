// Elementwise ops on the GPU backends against their CPU twins, every launcher
// and kernel version: same-shape and broadcast add/sub/mul, mul_scalar,
// add_scalar, expand (the backward of sum/mean) and sum_to_shape (the
// backward of a broadcast), then the engine ops with autograd on the device.
//
// Tolerances: every elementwise output is one float operation, as on the
// CPU: bitwise, on the emulator and on a GPU. sum_to_shape is a reduce_sum:
// bitwise for v1 and for v2 when the innermost dim is kept (the CPU's order);
// v2 with the innermost dim reduced adds by a block tree in double, so the
// float result may differ by an ulp: atol 1e-6 + rtol 1e-6 on sums of at most
// a few hundred values in [-1, 1].
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_cuda.h"
#include "tests/cuda/cpu_twin_match.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class ElementwiseCuda : public test::GpuTest {};

using V = gpu::ElementwiseVersion;
constexpr V kVersions[] = {V::kV1Scalar, V::kV2Vec4};
constexpr cpu::BinaryOp kOps[] = {cpu::BinaryOp::kAdd, cpu::BinaryOp::kSub, cpu::BinaryOp::kMul};

const char* name(cpu::BinaryOp op) {
  return op == cpu::BinaryOp::kAdd ? "add" : op == cpu::BinaryOp::kSub ? "sub" : "mul";
}

Tensor gpu_zeros(const Shape& s) { return Tensor::zeros(s, DType::F32, Device::cuda()); }

// Sizes around the float4 width, an offset of one float (misaligned: v2
// falls back to scalar) and the tail.
TEST_P(ElementwiseCuda, SameShapesEveryOpAndVersionBitForBit) {
  for (int64_t n : {1, 3, 4, 1001, 4099}) {
    const Tensor a = test::random_float({n}, uint64_t(n)), b = test::random_float({n}, n + 7);
    for (cpu::BinaryOp op : kOps) {
      for (int64_t offset : {0, 1}) {
        const int64_t m = n - offset;
        if (m <= 0) continue;
        Tensor want = Tensor::zeros({n});
        cpu::binary_same<float>(op, m, a.data<float>() + offset, b.data<float>() + offset,
                                want.data<float>() + offset);
        for (V v : kVersions) {
          SCOPED_TRACE(::testing::Message() << name(op) << " n=" << n << " offset " << offset
                                            << " v" << int(v));
          const auto got = test::run_all_schedules([&] {
            const Tensor ga = test::to_gpu(a), gb = test::to_gpu(b);
            Tensor out = gpu_zeros({n});
            MT_GPU(binary_same)(op, m, ga.data<float>() + offset, gb.data<float>() + offset,
                                out.data<float>() + offset, v);
            return std::vector<Tensor>{out};
          });
          EXPECT_TRUE(test::bitwise_equal(got[0], want));
        }
      }
    }
  }
}

TEST_P(ElementwiseCuda, ScalarOpsEveryVersionBitForBit) {
  for (int64_t n : {1, 5, 4099}) {
    const Tensor x = test::random_float({n}, uint64_t(n) + 3);
    for (int64_t offset : {0, 1}) {
      const int64_t m = n - offset;
      if (m <= 0) continue;
      Tensor want_mul = Tensor::zeros({n}), want_add = Tensor::zeros({n});
      cpu::mul_scalar<float>(m, x.data<float>() + offset, -1.75f, want_mul.data<float>() + offset);
      cpu::add_scalar<float>(m, x.data<float>() + offset, 0.3f, want_add.data<float>() + offset);
      for (V v : kVersions) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " offset " << offset << " v" << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x);
          Tensor mul = gpu_zeros({n}), add = gpu_zeros({n});
          MT_GPU(mul_scalar)(m, gx.data<float>() + offset, -1.75f, mul.data<float>() + offset, v);
          MT_GPU(add_scalar)(m, gx.data<float>() + offset, 0.3f, add.data<float>() + offset, v);
          return std::vector<Tensor>{mul, add};
        });
        EXPECT_TRUE(test::bitwise_equal(got[0], want_mul));
        EXPECT_TRUE(test::bitwise_equal(got[1], want_add));
      }
    }
  }
}

struct ShapePair {
  Shape a, b;
};

// The nets' broadcasts ([N, 1, H, W] * [N, 3, H, W], a per-channel [C, 1, 1]
// or [1, C, 1, 1] against [N, C, H, W], a bias [C] against [N, C]), an outer
// product, a scalar, rows whose length is a multiple of 4 (the float4 path of
// v2) and rows that are not, an empty output; each also with a and b swapped.
std::vector<ShapePair> broadcast_cases() {
  std::vector<ShapePair> base = {
      {{2, 1, 5, 7}, {2, 3, 5, 7}},  // rows of 35 (scalar path)
      {{2, 1, 4, 6}, {2, 3, 4, 6}},  // rows of 24 (float4 path)
      {{3, 1, 1}, {2, 3, 5, 7}},     // [C, 1, 1] + [N, C, H, W]
      {{1, 5, 1, 1}, {2, 5, 4, 4}},  // [1, C, 1, 1] * [N, C, H, W], rows of 16
      {{2, 3}, {3}},                 // [N, C] + bias [C]
      {{33, 1}, {1, 6}},             // outer product: both stretched
      {{5, 1, 7}, {5, 3, 1}},        // alternating stretched dims
      {{}, {3, 4}},                  // a 0-dim scalar
      {{1}, {1}},                    // one element
      {{0, 3}, {3}},                 // empty output: nothing launched
  };
  std::vector<ShapePair> all;
  for (const auto& p : base) {
    all.push_back(p);
    if (p.a != p.b) all.push_back({p.b, p.a});
  }
  return all;
}

TEST_P(ElementwiseCuda, BroadcastEveryOpAndVersionBitForBit) {
  uint64_t seed = 1;
  for (const ShapePair& sp : broadcast_cases()) {
    cpu::BroadcastPlan plan;
    Shape out(size_t(std::max(sp.a.size(), sp.b.size())), 0);
    ASSERT_EQ(cpu::plan_broadcast(int(sp.a.size()), sp.a.data(), int(sp.b.size()), sp.b.data(),
                                  out.data(), &plan),
              cpu::BroadcastStatus::kOk);
    const Tensor a = test::random_float(sp.a, ++seed), b = test::random_float(sp.b, ++seed);
    for (cpu::BinaryOp op : kOps) {
      Tensor want = Tensor::zeros(out);
      cpu::binary_broadcast<float>(op, plan, a.data<float>(), b.data<float>(), want.data<float>());
      for (V v : kVersions) {
        SCOPED_TRACE(::testing::Message() << name(op) << " " << sp.a << " with " << sp.b << " v"
                                          << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor ga = test::to_gpu(a), gb = test::to_gpu(b);
          Tensor y = gpu_zeros(out);
          MT_GPU(binary_broadcast)(op, plan, ga.data<float>(), gb.data<float>(), y.data<float>(),
                                   v);
          return std::vector<Tensor>{y};
        });
        EXPECT_TRUE(test::bitwise_equal(got[0], want));
      }
    }
  }
}

// expand as reduce's backward uses it: dy of the keepdim shape stretched back
// over the reduced dims, divided by the count (mean) or copied (sum).
TEST_P(ElementwiseCuda, ExpandEveryVersionBitForBit) {
  const std::vector<ShapePair> cases = {
      {{2, 1, 5, 7}, {2, 3, 5, 7}}, {{1, 3, 1, 1}, {2, 3, 5, 7}}, {{1, 1, 1}, {3, 5, 8}},
      {{3, 1}, {3, 33}},            {{1, 4}, {5, 4}},
  };
  uint64_t seed = 50;
  for (const ShapePair& sp : cases) {
    cpu::BroadcastPlan plan;
    Shape full(sp.b.size(), 0);
    ASSERT_EQ(cpu::plan_broadcast(int(sp.a.size()), sp.a.data(), int(sp.b.size()), sp.b.data(),
                                  full.data(), &plan),
              cpu::BroadcastStatus::kOk);
    const Tensor dy = test::random_float(sp.a, ++seed);
    for (float divisor : {1.f, 35.f, 3.f}) {
      Tensor want = Tensor::zeros(full);
      cpu::expand<float>(plan, dy.data<float>(), divisor, want.data<float>());
      for (V v : kVersions) {
        SCOPED_TRACE(::testing::Message() << sp.a << " to " << sp.b << " / " << divisor << " v"
                                          << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor g = test::to_gpu(dy);
          Tensor y = gpu_zeros(full);
          MT_GPU(expand)(plan, g.data<float>(), divisor, y.data<float>(), v);
          return std::vector<Tensor>{y};
        });
        EXPECT_TRUE(test::bitwise_equal(got[0], want));
      }
    }
  }
}

// Whether the innermost dim that is not 1 is kept (reduce_sum v2 then adds in
// the CPU's order).
bool innermost_kept(const Shape& shape, const Shape& target) {
  const int nd = int(shape.size()), nt = int(target.size());
  for (int d = nd - 1; d >= 0; --d) {
    if (shape[size_t(d)] == 1) continue;
    const int t = d - (nd - nt);
    return t >= 0 && target[size_t(t)] != 1;
  }
  return true;
}

TEST_P(ElementwiseCuda, SumToShapeEveryVersionMatchesCpu) {
  const std::vector<ShapePair> cases = {
      {{2, 3, 5, 7}, {2, 1, 5, 7}},  // the [N, 1, H, W] input of a broadcast mul
      {{2, 3, 5, 7}, {3, 1, 1}},     // per-channel
      {{2, 3, 5, 7}, {1, 3, 1, 1}},  // per-channel, keepdim-style
      {{2, 3, 5, 7}, {7}},           // trailing dims only
      {{4, 33}, {33}},               // bias of [N, C]
      {{4, 33}, {4, 1}},             // rows
      {{3, 4}, {}},                  // everything, to a scalar
      {{300, 2}, {1, 2}},            // 300 rows: the block path would be a tree
      {{2, 300}, {2, 1}},            // 300 per output: v2's block tree
  };
  uint64_t seed = 80;
  for (const ShapePair& sp : cases) {
    const Tensor x = test::random_float(sp.a, ++seed);
    Tensor want = Tensor::zeros(sp.b);
    cpu::sum_to_shape<float>(int(sp.a.size()), sp.a.data(), int(sp.b.size()), sp.b.data(),
                             x.data<float>(), want.data<float>());
    for (gpu::ReduceVersion v : {gpu::ReduceVersion::kV1PerOutput, gpu::ReduceVersion::kV2Block}) {
      SCOPED_TRACE(::testing::Message() << sp.a << " to " << sp.b << " v" << int(v));
      const auto got = test::run_all_schedules([&] {
        const Tensor g = test::to_gpu(x);
        Tensor y = gpu_zeros(sp.b);
        MT_GPU(sum_to_shape)(int(sp.a.size()), sp.a.data(), int(sp.b.size()), sp.b.data(),
                             g.data<float>(), y.data<float>(), v);
        return std::vector<Tensor>{y};
      });
      const bool exact = v == gpu::ReduceVersion::kV1PerOutput || innermost_kept(sp.a, sp.b);
      EXPECT_TRUE(test::matches_cpu("sum_to_shape", got[0], want, exact && emulated(), 1e-6, 1e-6));
    }
  }
}

// The engine ops with autograd: values and both gradients on the device
// against the CPU. Gradients of broadcast inputs go through sum_to_shape
// (reduce_sum v2, the default): per-channel ones add by a block tree.
TEST_P(ElementwiseCuda, AutogradThroughTheOpsMatchesCpu) {
  const std::vector<ShapePair> cases = {
      {{2, 1, 5, 7}, {2, 3, 5, 7}}, {{3, 1, 1}, {2, 3, 5, 7}}, {{2, 3}, {3}}, {{4, 5}, {4, 5}}};
  uint64_t seed = 200;
  for (const ShapePair& sp : cases) {
    const Tensor a = test::random_float(sp.a, ++seed), b = test::random_float(sp.b, ++seed);
    for (int which = 0; which < 5; ++which) {
      SCOPED_TRACE(::testing::Message() << sp.a << " with " << sp.b << " op " << which);
      auto forward = [which](const Tensor& x, const Tensor& y) {
        switch (which) {
          case 0:
            return ops::add(x, y);
          case 1:
            return ops::sub(x, y);
          case 2:
            return ops::mul(x, y);
          case 3:
            return ops::mul(ops::mul_scalar(x, -2.5), ops::add_scalar(y, 0.75));
          default:
            return ops::sub(ops::mul(x, y), ops::mul_scalar(x, 3.0));
        }
      };
      Tensor ac = a.copy().set_requires_grad(), bc = b.copy().set_requires_grad();
      const Tensor yc = forward(ac, bc);
      const Tensor seed_grad = test::random_float(yc.shape(), ++seed);
      yc.backward(seed_grad);
      const auto got = test::run_all_schedules([&] {
        Tensor ag = test::to_gpu(a).set_requires_grad(), bg = test::to_gpu(b).set_requires_grad();
        const Tensor y = forward(ag, bg);
        y.backward(test::to_gpu(seed_grad));
        return std::vector<Tensor>{y, ag.grad(), bg.grad()};
      });
      EXPECT_TRUE(test::matches_cpu("op", got[0], yc, true, 0, 0));
      // Reduced gradients: the block tree's order (see the file comment).
      EXPECT_TRUE(test::matches_cpu("da", got[1], ac.grad(), false, 1e-6, 1e-6));
      EXPECT_TRUE(test::matches_cpu("db", got[2], bc.grad(), false, 1e-6, 1e-6));
    }
  }
}

TEST_P(ElementwiseCuda, MismatchedShapesFailWithTheShapes) {
  const Tensor a = test::to_gpu(test::random_float({2, 3}, 1));
  const Tensor b = test::to_gpu(test::random_float({4}, 2));
  try {
    (void)ops::add(a, b);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("do not broadcast"), std::string::npos) << e.what();
  }
}

MT_GPU_TEST_SUITE(ElementwiseCuda);

}  // namespace
}  // namespace medtex
