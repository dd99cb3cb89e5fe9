// SGD and Adam/AdamW steps on the GPU backends against their CPU twins, every
// kernel version, and the engine's Optimizer classes on device parameters.
//
// Tolerance: none. The kernels perform the CPU twin's operations in its order,
// each rounded on its own (no FMA contraction on the device), with the same
// float scalars, so p and every state buffer must match bit for bit after
// every step.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/optim/optimizer.h"
#include "kernels/adam/adam.h"
#include "kernels/adam/adam_cuda.h"
#include "kernels/sgd/sgd.h"
#include "kernels/sgd/sgd_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class OptimCuda : public test::GpuTest {};

constexpr int kSteps = 3;
const std::vector<int64_t> kSizes = {1, 3, 4, 7, 1001};

std::vector<float> host(const Tensor& t) {
  return t.to_vector<float>();
}

// Gradient of step s for a tensor of n elements (n + offset on the device).
Tensor grad_at(int64_t n, int s) {
  return test::random_float({n}, uint64_t(1000 * s + n), -2, 2);
}

// Copies `t` (on the CPU, [n]) to a fresh device tensor of n + offset
// elements at element `offset`, so offset 1 makes every pointer misaligned.
Tensor to_gpu_at(const Tensor& t, int64_t offset) {
  std::vector<float> v(size_t(offset), 0.f);
  const auto body = host(t);
  v.insert(v.end(), body.begin(), body.end());
  return test::to_gpu(Tensor::from_vector(v, {int64_t(v.size())}));
}

// The device tensor's elements from `offset` on, as a CPU tensor.
Tensor tail(const Tensor& t, int64_t offset) {
  auto v = host(t);
  v.erase(v.begin(), v.begin() + offset);
  return Tensor::from_vector(v, {int64_t(v.size())});
}

::testing::AssertionResult same_bits(const Tensor& got, const Tensor& want) {
  if (test::bitwise_equal(got, want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "not bit for bit: " << test::all_close(got, want, 0, 0).message();
}

TEST_P(OptimCuda, SgdEveryVersionMatchesTheCpuTwinBitForBit) {
  const std::vector<cpu::SgdParams> configs = {
      {.lr = 0.1},                                                            // plain
      {.lr = 0.05, .momentum = 0.9},                                          // heavy ball
      {.lr = 0.01, .momentum = 0.8, .dampening = 0.1, .weight_decay = 1e-2},  // dampened, L2
      {.lr = 0.03, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true},
  };
  for (size_t c = 0; c < configs.size(); ++c) {
    const cpu::SgdParams& s = configs[c];
    const bool momentum = s.momentum != 0;
    for (int64_t n : kSizes) {
      const Tensor p0 = test::random_float({n}, uint64_t(n) + 3);
      // The CPU twin's trajectory.
      Tensor p = p0.copy(), buf = Tensor::zeros({n});
      std::vector<Tensor> want_p, want_buf;
      for (int step = 0; step < kSteps; ++step) {
        cpu::sgd_step<float>(n, p.data<float>(), grad_at(n, step).data<float>(),
                             momentum ? buf.data<float>() : nullptr, s, step == 0);
        want_p.push_back(p.copy());
        want_buf.push_back(buf.copy());
      }
      for (gpu::SgdVersion v : {gpu::SgdVersion::kV1Scalar, gpu::SgdVersion::kV2Vec4}) {
        for (int64_t offset : {0, 1}) {
          SCOPED_TRACE(::testing::Message()
                       << "config " << c << " n=" << n << " v" << int(v) << " offset " << offset);
          const auto got = test::run_all_schedules([&] {
            Tensor gp = to_gpu_at(p0, offset), gbuf = to_gpu_at(Tensor::zeros({n}), offset);
            std::vector<Tensor> out;
            for (int step = 0; step < kSteps; ++step) {
              const Tensor gg = to_gpu_at(grad_at(n, step), offset);
              float* gb = momentum ? gbuf.data<float>() + offset : nullptr;
              MT_GPU(sgd_step)(n, gp.data<float>() + offset, gg.data<float>() + offset, gb, s,
                               step == 0, v);
              out.push_back(gp.copy());
              out.push_back(gbuf.copy());
            }
            return out;
          });
          for (int step = 0; step < kSteps; ++step) {
            EXPECT_TRUE(same_bits(tail(got[size_t(2 * step)], offset), want_p[size_t(step)]))
                << "p after step " << step;
            EXPECT_TRUE(same_bits(tail(got[size_t(2 * step + 1)], offset), want_buf[size_t(step)]))
                << "momentum buffer after step " << step;
          }
        }
      }
    }
  }
}

TEST_P(OptimCuda, AdamEveryVersionMatchesTheCpuTwinBitForBit) {
  const std::vector<cpu::AdamParams> configs = {
      {.lr = 1e-3},                                           // Adam
      {.lr = 3e-3, .beta1 = 0.8, .weight_decay = 1e-2},       // Adam, L2 decay
      {.lr = 1e-2, .weight_decay = 0.05, .decoupled = true},  // AdamW
      {.lr = 1e-3,
       .eps = 1e-6,
       .weight_decay = 0.01,
       .decoupled = true,
       .step = 998},  // late steps
  };
  for (size_t c = 0; c < configs.size(); ++c) {
    for (int64_t n : kSizes) {
      const Tensor p0 = test::random_float({n}, uint64_t(n) + 5);
      Tensor p = p0.copy(), m = Tensor::zeros({n}), vv = Tensor::zeros({n});
      std::vector<Tensor> want;
      cpu::AdamParams a = configs[c];
      for (int step = 0; step < kSteps; ++step, ++a.step) {
        cpu::adam_step<float>(n, p.data<float>(), grad_at(n, step).data<float>(), m.data<float>(),
                              vv.data<float>(), a);
        want.insert(want.end(), {p.copy(), m.copy(), vv.copy()});
      }
      for (gpu::AdamVersion v : {gpu::AdamVersion::kV1Scalar, gpu::AdamVersion::kV2Vec4}) {
        for (int64_t offset : {0, 1}) {
          SCOPED_TRACE(::testing::Message()
                       << "config " << c << " n=" << n << " v" << int(v) << " offset " << offset);
          const auto got = test::run_all_schedules([&] {
            const Tensor zero = Tensor::zeros({n});
            Tensor gp = to_gpu_at(p0, offset), gm = to_gpu_at(zero, offset),
                   gv = to_gpu_at(zero, offset);
            std::vector<Tensor> out;
            cpu::AdamParams ga = configs[c];
            for (int step = 0; step < kSteps; ++step, ++ga.step) {
              const Tensor gg = to_gpu_at(grad_at(n, step), offset);
              MT_GPU(adam_step)(n, gp.data<float>() + offset, gg.data<float>() + offset,
                                gm.data<float>() + offset, gv.data<float>() + offset, ga, v);
              out.insert(out.end(), {gp.copy(), gm.copy(), gv.copy()});
            }
            return out;
          });
          const char* names[] = {"p", "m", "v"};
          for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_TRUE(same_bits(tail(got[i], offset), want[i]))
                << names[i % 3] << " after step " << i / 3;
          }
        }
      }
    }
  }
}

// The engine's optimisers on device parameters: state allocated beside the
// parameters, the same trajectory as on CPU parameters, a parameter without
// a gradient skipped.
using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

void check_optimizer_on_device(const MakeOptimizer& make) {
  const std::vector<Shape> shapes = {{3, 5}, {7}, {2, 2}};
  auto run = [&](Device device) {
    std::vector<Tensor> params;
    for (size_t i = 0; i < shapes.size(); ++i) {
      params.push_back(test::random_float(shapes[i], 40 + i).to(device).set_requires_grad());
    }
    auto opt = make(params);
    for (int step = 0; step < kSteps; ++step) {
      for (size_t i = 0; i + 1 < params.size(); ++i) {  // the last one never gets a gradient
        params[i].impl().grad =
            test::random_float(shapes[i], uint64_t(100 * step + i), -1, 1).to(device).impl_ptr();
      }
      opt->step();
    }
    for (const auto& [name, t] : opt->state()) {
      EXPECT_EQ(t.device(), device) << name << " lives on " << t.device().str();
    }
    std::vector<Tensor> out;
    for (const Tensor& p : params) out.push_back(p.detach().to(Device::cpu()));
    for (const auto& [name, t] : opt->state()) out.push_back(t.to(Device::cpu()));
    return out;
  };
  const std::vector<Tensor> want = run(Device::cpu());
  const std::vector<Tensor> got = test::run_all_schedules([&] { return run(Device::cuda()); });
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(same_bits(got[i], want[i])) << "tensor " << i;
}

TEST_P(OptimCuda, SgdOptimizerOnDeviceParametersMatchesCpu) {
  check_optimizer_on_device([](std::vector<Tensor> ps) -> std::unique_ptr<optim::Optimizer> {
    return std::make_unique<optim::SGD>(std::move(ps), optim::SgdOptions{.lr = 0.1});
  });
  check_optimizer_on_device([](std::vector<Tensor> ps) -> std::unique_ptr<optim::Optimizer> {
    return std::make_unique<optim::SGD>(
        std::move(ps),
        optim::SgdOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
  });
}

TEST_P(OptimCuda, AdamOptimizerOnDeviceParametersMatchesCpu) {
  check_optimizer_on_device([](std::vector<Tensor> ps) -> std::unique_ptr<optim::Optimizer> {
    return std::make_unique<optim::Adam>(std::move(ps),
                                         optim::AdamOptions{.lr = 1e-2, .weight_decay = 1e-2});
  });
  check_optimizer_on_device([](std::vector<Tensor> ps) -> std::unique_ptr<optim::Optimizer> {
    auto o = optim::adamw_defaults();
    o.lr = 3e-3;
    return std::make_unique<optim::Adam>(std::move(ps), o);
  });
}

TEST_P(OptimCuda, GradientOnAnotherDeviceFailsClearly) {
  Tensor p = test::to_gpu(test::random_float({4}, 1)).set_requires_grad();
  optim::SGD opt({p}, {.lr = 0.1});
  p.impl().grad = test::random_float({4}, 2).impl_ptr();  // a CPU gradient for a GPU parameter
  EXPECT_THROW(opt.step(), Error);
  p.impl().grad.reset();
}

MT_GPU_TEST_SUITE(OptimCuda);

}  // namespace
}  // namespace medtex
