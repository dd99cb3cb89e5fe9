// The GPU runtime: backend choice, device tensors, copies, the caching
// allocator, and clear errors for what a backend cannot do.
#include <map>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/runtime/allocator.h"
#include "kernels/relu/relu_cuda.h"
#include "kernels/runtime/gpu.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

using test::GpuTest;

class Runtime : public GpuTest {};

TEST_P(Runtime, RoundTripKeepsEveryBitOfEveryType) {
  const Tensor f = test::random_float({3, 7, 5}, 1);
  EXPECT_TRUE(test::bitwise_equal(test::to_gpu(f).to(Device::cpu()), f));
  const Tensor d = test::random_double({11}, 2);
  EXPECT_TRUE(test::bitwise_equal(test::to_gpu(d).to(Device::cpu()), d));
  const Tensor i = Tensor::from_vector<int64_t>({-3, 0, 7, int64_t{1} << 40}, {4});
  EXPECT_EQ(test::to_gpu(i).to_vector<int64_t>(), i.to_vector<int64_t>());
  const Tensor empty = Tensor::empty({0, 3});
  EXPECT_EQ(test::to_gpu(empty).to(Device::cpu()).numel(), 0);
}

TEST_P(Runtime, FillConvertCopyAndItemOnTheDevice) {
  Tensor t = Tensor::full({1001}, 2.5, DType::F32, Device::cuda());
  EXPECT_EQ(t.device(), Device::cuda());
  EXPECT_EQ(t.str(), "float32[1001] cuda:0");
  const std::vector<float> v = t.to_vector<float>();
  for (float x : v) ASSERT_EQ(x, 2.5f);
  const Tensor as_int = Tensor::from_vector<float>({-1.5f, 0.f, 2.75f}, {3}).to(Device::cuda()).to(DType::I32);
  EXPECT_EQ(as_int.device(), Device::cuda());
  EXPECT_EQ(as_int.to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 2}));
  Tensor copy = t.copy();
  t.fill_(-1.0);
  EXPECT_EQ(copy.to_vector<float>()[1000], 2.5f);
  EXPECT_EQ(Tensor::full({1}, 4.0, DType::F64, Device::cuda()).item(), 4.0);
  Tensor host = Tensor::zeros({1001});
  host.copy_from(t);
  EXPECT_EQ(host.to_vector<float>()[7], -1.0f);
}

TEST_P(Runtime, SteadyStateReusesCachedBlocks) {
  auto step = [] {
    Tensor a = Tensor::full({4096}, 1.0, DType::F32, Device::cuda());
    Tensor b = ops::relu(a);
    Tensor c = ops::relu(b);
    return c.to(Device::cpu());
  };
  step();  // warms the cache
  const gpu::AllocatorStats before = gpu::allocator_stats();
  for (int i = 0; i < 5; ++i) step();
  const gpu::AllocatorStats after = gpu::allocator_stats();
  EXPECT_EQ(after.raw_allocs, before.raw_allocs) << "a device malloc per op in steady state";
  EXPECT_GT(after.cache_hits, before.cache_hits);
  EXPECT_EQ(after.live_blocks, 0);
}

TEST_P(Runtime, OpsRefuseMixedDevicesAndFloat64) {
  const Tensor a = Tensor::ones({3}, DType::F32, Device::cuda());
  const Tensor b = Tensor::ones({3});
  try {
    ops::add(a, b);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different devices"), std::string::npos) << e.what();
  }
  const Tensor d = Tensor::ones({3}, DType::F64, Device::cuda());
  try {
    ops::relu(d);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
}

TEST_P(Runtime, SwitchingBackendWhileTensorsLiveIsRefused) {
  const Tensor a = Tensor::ones({3}, DType::F32, Device::cuda());
  try {
    gpu::use(gpu::Backend::kNone);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("while 1 device allocations"), std::string::npos)
        << e.what();
  }
}

MT_GPU_TEST_SUITE(Runtime);

TEST(RuntimeNoBackend, AllocatingWithoutABackendIsAClearError) {
  ASSERT_EQ(gpu::active(), gpu::Backend::kNone);
  try {
    Tensor::empty({2}, DType::F32, Device::cuda());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot allocate on cuda:0: no GPU backend selected (--device cuda or emu)");
  }
}

TEST(RuntimeNoBackend, ProbeNeverThrowsAndExplainsAbsence) {
  const gpu::Probe& p = gpu::probe_cuda();
  if (p.available) {
    EXPECT_FALSE(p.info.name.empty() && p.reason.empty());
  } else {
    EXPECT_FALSE(p.reason.empty());
    try {
      gpu::use(gpu::Backend::kCuda);
      FAIL() << "selected a GPU that is not there";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "CUDA unavailable: " + p.reason);
    }
    EXPECT_EQ(gpu::active(), gpu::Backend::kNone);
  }
}

// The allocator alone, over a counting fake backend.
size_t g_live = 0;
size_t g_limit = 0;
std::map<void*, size_t> g_blocks;
void* fake_malloc(size_t bytes) {
  if (g_live + bytes > g_limit) return nullptr;
  g_live += bytes;
  void* p = new char[bytes];
  g_blocks[p] = bytes;
  return p;
}
void fake_free(void* p) {
  g_live -= g_blocks.at(p);
  g_blocks.erase(p);
  delete[] static_cast<char*>(p);
}

TEST(CachingAllocator, RoundsReusesAndEmptiesTheCacheBeforeGivingUp) {
  g_live = 0;
  g_limit = 4096;
  gpu::CachingAllocator a(fake_malloc, fake_free);
  void* p = a.allocate(1000);  // rounds to 1024
  ASSERT_NE(p, nullptr);
  a.free(p);
  EXPECT_EQ(a.stats().cached_bytes, 1024u);
  void* q = a.allocate(900);  // same class: the cached block comes back
  EXPECT_EQ(q, p);
  EXPECT_EQ(a.stats().cache_hits, 1);
  a.free(q);
  // 3584 bytes do not fit beside the cached 1024 under the 4096 limit, and
  // the cached block is too small: the cache is emptied, then it fits.
  void* big = a.allocate(3584);
  EXPECT_NE(big, nullptr);
  EXPECT_EQ(a.stats().cached_bytes, 0u);
  EXPECT_EQ(a.allocate(4096), nullptr);  // honestly out of memory
  a.free(big);
  EXPECT_EQ(a.stats().live_blocks, 0);
  EXPECT_EQ(a.stats().peak_in_use_bytes, 3584u);
}

}  // namespace
}  // namespace medtex

namespace medtex {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// A launch told the tensor is one element longer than it is: the read lands
// in the block's rounding slack, which the emulated allocator poisons.
void relu_one_past_the_end() {
  gpu::use(gpu::Backend::kEmulated);
  const Tensor x = Tensor::ones({5}, DType::F32, Device::cuda());
  Tensor y = Tensor::empty({6}, DType::F32, Device::cuda());
  MT_GPU(relu_forward)(6, x.data<float>(), y.data<float>(), gpu::ReluVersion::kV1Scalar);
}

TEST(RuntimeUnderAsan, ReadingPastATensorInsideItsBlockIsCaught) {
  if (!kAddressSanitizer) GTEST_SKIP() << "needs the sanitizer build (tools/test runs one)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(relu_one_past_the_end(), "use-after-poison");
}

}  // namespace
}  // namespace medtex
