// relu on the GPU backends against its CPU twin, every kernel version.
#include <cmath>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/relu/relu.h"
#include "kernels/relu/relu_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class ReluCuda : public test::GpuTest {};

// Odd sizes (tails for float4), an offset view (misaligned: v2 falls back).
TEST_P(ReluCuda, EveryVersionMatchesTheCpuTwinBitForBit) {
  for (int64_t n : {1, 3, 4, 1001, 4099}) {
    const Tensor x = test::random_float({n}, uint64_t(n));
    const Tensor dy = test::random_float({n}, uint64_t(n) + 7);
    Tensor y_cpu = Tensor::empty({n}), dx_cpu = Tensor::empty({n});
    cpu::relu_forward<float>(n, x.data<float>(), y_cpu.data<float>());
    cpu::relu_backward<float>(n, y_cpu.data<float>(), dy.data<float>(), dx_cpu.data<float>());
    for (gpu::ReluVersion v : {gpu::ReluVersion::kV1Scalar, gpu::ReluVersion::kV2Vec4}) {
      for (int64_t offset : {0, 1}) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " v" << int(v) << " offset " << offset);
        const int64_t m = n - offset;
        if (m <= 0) continue;
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
          Tensor gy = Tensor::empty({n}, DType::F32, Device::cuda());
          Tensor gdx = Tensor::empty({n}, DType::F32, Device::cuda());
          gy.fill_(0), gdx.fill_(0);
          MT_GPU(relu_forward)(m, gx.data<float>() + offset, gy.data<float>() + offset, v);
          MT_GPU(relu_backward)(m, gy.data<float>() + offset, gdy.data<float>() + offset,
                                gdx.data<float>() + offset, v);
          return std::vector<Tensor>{gy, gdx};
        });
        const auto y = got[0].to_vector<float>(), dx = got[1].to_vector<float>();
        const auto ey = y_cpu.to_vector<float>(), edx = dx_cpu.to_vector<float>();
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(y[size_t(i)], i < offset ? 0.f : ey[size_t(i)]) << i;
          ASSERT_EQ(dx[size_t(i)], i < offset ? 0.f : edx[size_t(i)]) << i;
        }
      }
    }
  }
}

TEST_P(ReluCuda, AutogradThroughTheOpMatchesCpu) {
  const Tensor x = test::random_float({2, 3, 5, 7}, 3);
  Tensor xc = x.copy().set_requires_grad();
  ops::sum(ops::relu(xc)).backward();
  const auto got = test::run_all_schedules([&] {
    Tensor xg = test::to_gpu(x).set_requires_grad();
    Tensor y = ops::relu(xg);
    y.backward(Tensor::ones(y.shape(), DType::F32, Device::cuda()));
    return std::vector<Tensor>{y, xg.grad()};
  });
  EXPECT_TRUE(test::all_close(got[0], ops::relu(x), 0, 0));
  EXPECT_TRUE(test::all_close(got[1], xc.grad(), 0, 0));
}

TEST_P(ReluCuda, NanPropagatesAsOnTheCpu) {
  const Tensor x = Tensor::from_vector<float>({std::nanf(""), -1.f, 2.f, -0.f, 5.f}, {5});
  const Tensor y = ops::relu(test::to_gpu(x)).to(Device::cpu());
  EXPECT_TRUE(std::isnan(y.to_vector<float>()[0]));
  EXPECT_EQ(y.to_vector<float>()[2], 2.f);
}

MT_GPU_TEST_SUITE(ReluCuda);

}  // namespace
}  // namespace medtex
