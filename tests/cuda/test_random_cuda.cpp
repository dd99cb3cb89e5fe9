// Gumbel, uniform and normal fills on the GPU backends against their CPU
// twins, every kernel version.
//
// Tolerances: gumbel and uniform must match bit for bit everywhere (integer
// Philox, IEEE basic operations each rounded on its own). normal must match
// bit for bit under the emulator (same libm); on a GPU, CUDA's double
// log/sin/cos (1-2 ulp in double) can move z across a float rounding
// boundary, so there it may be 1 float ulp of z off, scaled by stddev, plus
// the rounding of mean + stddev * z: atol = 2 ulp(|mean| + 8 |stddev|).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/rng.h"
#include "kernels/gumbel/gumbel.h"
#include "kernels/gumbel/gumbel_cuda.h"
#include "kernels/random/random.h"
#include "kernels/random/random_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class RandomCuda : public test::GpuTest {};

// Draws with small and large seeds, streams and offsets (every counter word used).
const std::vector<PhiloxDraw> kDraws = {
    {0, 0, 0}, {1, 7, 3}, {0x9E3779B97F4A7C15ull, 0xDEADBEEFu, 0xFFFFFFFEu}};
// Odd sizes: one element, a partial Philox block, whole blocks, long tails.
const std::vector<int64_t> kSizes = {1, 3, 4, 5, 1001, 4099};

template <class Fill>
Tensor run_fill(int64_t n, int64_t offset, Fill&& fill) {
  // offset 1: `out` misaligned, so v2 takes its scalar-store path.
  Tensor out = Tensor::zeros({n + offset}, DType::F32, Device::cuda());
  fill(out.data<float>() + offset);
  return out;
}

// The first mismatch of got[offset + i] against want[i] (as bits), or -1.
int64_t first_bit_mismatch(const Tensor& got, int64_t offset, const std::vector<float>& want) {
  const auto g = got.to_vector<float>();
  for (int64_t i = 0; i < offset; ++i)
    if (g[size_t(i)] != 0.f) return i;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&g[size_t(offset) + i], &want[i], sizeof(float)) != 0) return int64_t(i);
  }
  return -1;
}

TEST_P(RandomCuda, GumbelEveryVersionMatchesTheCpuTwinBitForBit) {
  for (const PhiloxDraw& d : kDraws) {
    for (int64_t n : kSizes) {
      std::vector<float> want(static_cast<size_t>(n));
      cpu::gumbel_fill<float>(n, d, want.data());
      for (gpu::GumbelVersion v :
           {gpu::GumbelVersion::kV1PerElement, gpu::GumbelVersion::kV2PerBlock}) {
        for (int64_t offset : {0, 1}) {
          SCOPED_TRACE(::testing::Message()
                       << "seed " << d.seed << " stream " << d.stream << " offset " << d.offset
                       << " n=" << n << " v" << int(v) << " ptr offset " << offset);
          const auto got = test::run_all_schedules([&] {
            return std::vector<Tensor>{run_fill(n, offset, [&](float* out) {
              MT_GPU(gumbel_fill)(n, d, out, v);
            })};
          });
          EXPECT_EQ(first_bit_mismatch(got[0], offset, want), -1);
        }
      }
    }
  }
}

TEST_P(RandomCuda, UniformEveryVersionMatchesTheCpuTwinBitForBit) {
  struct Range {
    float lo, hi;
  };
  for (const Range r : {Range{0.f, 1.f}, Range{-0.37f, 2.9f}, Range{-1e-3f, 1e-3f}}) {
    for (const PhiloxDraw& d : kDraws) {
      for (int64_t n : kSizes) {
        std::vector<float> want(static_cast<size_t>(n));
        cpu::uniform_fill<float>(n, d, r.lo, r.hi, want.data());
        for (gpu::RandomVersion v :
             {gpu::RandomVersion::kV1PerElement, gpu::RandomVersion::kV2PerBlock}) {
          for (int64_t offset : {0, 1}) {
            SCOPED_TRACE(::testing::Message()
                         << "[" << r.lo << ", " << r.hi << ") seed " << d.seed << " n=" << n << " v"
                         << int(v) << " ptr offset " << offset);
            const auto got = test::run_all_schedules([&] {
              return std::vector<Tensor>{run_fill(n, offset, [&](float* out) {
                MT_GPU(uniform_fill)(n, d, r.lo, r.hi, out, v);
              })};
            });
            EXPECT_EQ(first_bit_mismatch(got[0], offset, want), -1);
          }
        }
      }
    }
  }
}

TEST_P(RandomCuda, NormalEveryVersionMatchesTheCpuTwin) {
  struct Moments {
    float mean, stddev;
  };
  for (const Moments mo : {Moments{0.f, 1.f}, Moments{0.25f, 0.02f}}) {
    for (const PhiloxDraw& d : kDraws) {
      for (int64_t n : kSizes) {
        std::vector<float> want(static_cast<size_t>(n));
        cpu::normal_fill<float>(n, d, mo.mean, mo.stddev, want.data());
        const Tensor expected = Tensor::from_vector(want, {n});
        const double atol = 2 * std::ldexp(std::abs(mo.mean) + 8 * mo.stddev, -23);
        for (gpu::RandomVersion v :
             {gpu::RandomVersion::kV1PerElement, gpu::RandomVersion::kV2PerBlock}) {
          for (int64_t offset : {0, 1}) {
            SCOPED_TRACE(::testing::Message()
                         << "N(" << mo.mean << ", " << mo.stddev << ") seed " << d.seed
                         << " n=" << n << " v" << int(v) << " ptr offset " << offset);
            const auto got = test::run_all_schedules([&] {
              return std::vector<Tensor>{run_fill(n, offset, [&](float* out) {
                MT_GPU(normal_fill)(n, d, mo.mean, mo.stddev, out, v);
              })};
            });
            if (emulated()) {
              EXPECT_EQ(first_bit_mismatch(got[0], offset, want), -1);  // same libm
            } else {
              std::vector<float> g = got[0].to_vector<float>();
              g.erase(g.begin(), g.begin() + offset);
              EXPECT_TRUE(test::all_close(Tensor::from_vector(g, {n}), expected, atol, 0));
            }
          }
        }
      }
    }
  }
}

// On a GPU, 2^24 elements: enough to reach nearly every value uniform_open01
// can produce, the whole domain of the Gumbel transform's inner logarithm.
// (The emulator would take minutes; the transform is checked there on 4099.)
TEST_P(RandomCuda, GumbelLargeDrawBitForBitOnTheDevice) {
  const int64_t n = emulated() ? 4099 : int64_t{1} << 24;
  const PhiloxDraw d{42, 3, 1};
  std::vector<float> want(static_cast<size_t>(n));
  cpu::gumbel_fill<float>(n, d, want.data());
  Tensor out = Tensor::empty({n}, DType::F32, Device::cuda());
  MT_GPU(gumbel_fill)(n, d, out.data<float>(), gpu::kGumbelDefault);
  EXPECT_EQ(first_bit_mismatch(out, 0, want), -1);
}

TEST_P(RandomCuda, GumbelOpOnTheDeviceMatchesCpuBitForBit) {
  Generator a(11), b(11);
  for (const Shape& shape : {Shape{3, 5, 7}, Shape{1}, Shape{4, 0}, Shape{}, Shape{2, 33}}) {
    SCOPED_TRACE(::testing::Message() << "shape " << shape);
    const Tensor cpu_noise = ops::gumbel(shape, a);
    const Tensor gpu_noise = ops::gumbel(shape, b, DType::F32, Device::cuda());
    EXPECT_TRUE(gpu_noise.device().is_cuda());
    EXPECT_EQ(gpu_noise.shape(), shape);
    EXPECT_TRUE(test::bitwise_equal(gpu_noise.to(Device::cpu()), cpu_noise));
  }
  EXPECT_EQ(a.state().offset, b.state().offset);  // one draw per call on both devices
  EXPECT_THROW(ops::gumbel({2}, b, DType::F64, Device::cuda()), Error);
}

TEST_P(RandomCuda, GeneratorFillsOfDeviceTensorsMatchCpu) {
  for (const Shape& shape : {Shape{2, 3, 5, 7}, Shape{1}, Shape{0}}) {
    SCOPED_TRACE(::testing::Message() << "shape " << shape);
    Generator a(5), b(5);
    Tensor cu = Tensor::empty(shape), gu = Tensor::empty(shape, DType::F32, Device::cuda());
    a.uniform_(cu, -0.3, 0.7);
    b.uniform_(gu, -0.3, 0.7);
    EXPECT_TRUE(test::bitwise_equal(gu.to(Device::cpu()), cu));
    Tensor cn = Tensor::empty(shape), gn = Tensor::empty(shape, DType::F32, Device::cuda());
    a.normal_(cn, 0.1, 0.05);
    b.normal_(gn, 0.1, 0.05);
    if (emulated()) {
      EXPECT_TRUE(test::bitwise_equal(gn.to(Device::cpu()), cn));
    } else {
      EXPECT_TRUE(
          test::all_close(gn.to(Device::cpu()), cn, 2 * std::ldexp(0.1 + 8 * 0.05, -23), 0));
    }
  }
  Generator g(1);
  Tensor d = Tensor::empty({3}, DType::F64, Device::cuda());
  EXPECT_THROW(g.uniform_(d, 0, 1), Error);  // float32 only on the GPU, a clear error
}

MT_GPU_TEST_SUITE(RandomCuda);

}  // namespace
}  // namespace medtex
