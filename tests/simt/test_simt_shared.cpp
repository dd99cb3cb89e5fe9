// Static shared memory declared with SIMT_SHARED: poisoned (NaN, -1) at the
// start of every block, also the second block on one worker; one array per
// block that all its threads share, on the barrier-free fast path too, and
// never shared between blocks running at once on different workers; one
// array per declaration and template instantiation; aligned as nvcc aligns
// it; and counted against the shared memory limits with dynamic shared
// memory, as a GPU counts it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/simt/simt.h"

namespace shared_tests {
inline namespace SIMT_NS {

constexpr int kThreads = 64;

// Thread 0 writes one element; everyone then reads their own. At the end all
// of it is written, so a next block that were not poisoned would read 42.
__global__ void read_unwritten_static_shared(float* floats, int* ints, double* doubles) {
  SIMT_SHARED(float, scratch, [kThreads]);
  SIMT_SHARED(int, counts, [kThreads]);
  SIMT_SHARED(double, total);
  const int t = threadIdx.x, b = blockIdx.x;
  if (t == 0) scratch[0] = static_cast<float>(b + 1);
  __syncthreads();
  floats[b * kThreads + t] = scratch[t];
  ints[b * kThreads + t] = counts[t];
  if (t == 0) doubles[b] = total;
  __syncthreads();
  scratch[t] = 42.0f;
  counts[t] = 42;
  total = 42.0;
}

// The same with plain __shared__, which is not poisoned.
__global__ void read_unwritten_plain_shared(float* floats) {
  __shared__ float scratch[kThreads];
  const int t = threadIdx.x, b = blockIdx.x;
  floats[b * kThreads + t] = scratch[t];
  __syncthreads();
  scratch[t] = 42.0f;
}

// Each thread writes its slot, then reads its neighbour's after the barrier
// (the SIMT_SHARED twin of test_simt_core's rotate_through_shared).
__global__ void rotate_through_static_shared(int* out) {
  SIMT_SHARED(int, values, [1024]);
  const int n = blockDim.x, t = threadIdx.x;
  values[t] = 1000 * blockIdx.x + t;
  __syncthreads();
  const int neighbour = values[(t + 1) % n];
  __syncthreads();
  values[t] = -neighbour;
  __syncthreads();
  out[blockIdx.x * n + t] = values[(t + n - 1) % n];
}

struct alignas(64) Wide {
  float v[16];
};

// Where each thread finds its arrays; no barrier, so the block runs on the
// fast path (one runner fiber for all its threads).
__global__ void record_addresses(uintptr_t* out) {
  SIMT_SHARED(float, floats, [33]);
  SIMT_SHARED(char, chars, [3]);
  SIMT_SHARED(Wide, wide);
  SIMT_SHARED(float4, vectors, [2]);
  uintptr_t* o = out + (blockIdx.x * blockDim.x + threadIdx.x) * 4;
  o[0] = reinterpret_cast<uintptr_t>(&floats[0]);
  o[1] = reinterpret_cast<uintptr_t>(&chars[0]);
  o[2] = reinterpret_cast<uintptr_t>(&wide);
  o[3] = reinterpret_cast<uintptr_t>(&vectors[0]);
}

// A declaration in a device function is one array however often it is
// reached; each instantiation of a template is its own array.
__device__ float* one_scratch() {
  SIMT_SHARED(float, scratch, [32]);
  return scratch;
}
template <int kSize>
__device__ float* sized_scratch() {
  SIMT_SHARED(float, scratch, [kSize]);
  return scratch;
}
__global__ void declarations_and_instantiations(int* same, int* different, float* kept) {
  float* first = one_scratch();
  if (threadIdx.x == 0) first[threadIdx.x] = 5.0f;
  __syncthreads();
  float* again = one_scratch();
  same[threadIdx.x] = first == again;
  kept[threadIdx.x] = again[0];  // written through `first`: the same storage
  different[threadIdx.x] =
      sized_scratch<8>() != sized_scratch<16>() && sized_scratch<8>() == sized_scratch<8>();
}

// Every block fills its array with its own number, lets the other workers'
// blocks run a while, then checks it: an array shared between workers would
// have been overwritten by then.
__global__ void keep_own_values(int* wrong, unsigned long long* worker_ids) {
  SIMT_SHARED(int, mine, [256]);
  const int t = threadIdx.x;
  mine[t] = static_cast<int>(blockIdx.x) * 1000 + t;
  __syncthreads();
  if (t == 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    worker_ids[blockIdx.x] = std::hash<std::thread::id>()(std::this_thread::get_id());
  }
  __syncthreads();
  if (mine[t] != static_cast<int>(blockIdx.x) * 1000 + t) atomicAdd(wrong, 1);
}

// Reads one float past the first of two arrays, through a pointer (indexing
// the array itself, UBSan reports the bad index before ASan sees the read).
__global__ void read_past_static_shared(float* out) {
  SIMT_SHARED(float, first, [32]);
  SIMT_SHARED(float, second, [32]);
  first[threadIdx.x] = 1.0f;
  second[threadIdx.x] = 2.0f;
  __syncthreads();
  const float* row = first;
  out[threadIdx.x] = row[threadIdx.x + 1];  // BUG for thread 31
}

// kFloats floats of static shared memory. One instantiation (kId) per test:
// the emulator remembers each kernel's static size from launch to launch.
template <int kId, int kFloats>
__global__ void uses_static_shared(float* out) {
  SIMT_SHARED(float, big, [kFloats]);
  big[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = big[threadIdx.x];
}

// Two arrays that are each under the limit and together over it.
template <int kId>
__global__ void two_arrays_over_the_static_limit(float* out) {
  SIMT_SHARED(float, first, [6144]);   // 24 KiB
  SIMT_SHARED(float, second, [6145]);  // 24 KiB and 4 bytes
  first[threadIdx.x] = 1.0f;
  second[threadIdx.x] = 2.0f;
  out[threadIdx.x] = first[threadIdx.x] + second[threadIdx.x];
}

}  // namespace SIMT_NS
}  // namespace shared_tests

namespace {

using simt::Schedule;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

// The emulator remembers each kernel's static shared memory and opt-in for
// the whole process; the limit tests start from a clean slate so that they
// also pass under --gtest_repeat.
template <class... Params>
void forget(void (*kernel)(Params...)) {
  simt::detail::forget_kernel_shared(reinterpret_cast<simt::detail::AnyKernel>(kernel));
}

simt::Config make_config(Schedule s, unsigned workers, uint64_t seed = 1) {
  simt::Config c;
  c.schedule = s;
  c.workers = workers;
  c.seed = seed;
  return c;
}

TEST(StaticShared, UnwrittenMemoryReadsNaNInEveryBlock) {
  // One worker in order: blocks 2 and 3 start where block 1 left 42s. Then
  // the other schedules on two workers.
  const simt::Config configs[] = {
      make_config(Schedule::kInOrder, 1), make_config(Schedule::kReverse, 1),
      make_config(Schedule::kRandom, 2, 1), make_config(Schedule::kRandom, 2, 2)};
  for (const simt::Config& config : configs) {
    const simt::ScopedConfig scoped(config);
    constexpr int kBlocks = 3;
    std::vector<float> floats(kBlocks * shared_tests::kThreads, 0.0f);
    std::vector<int> ints(floats.size(), 0);
    std::vector<double> doubles(kBlocks, 0.0);
    const simt::Error e =
        simt::launch(shared_tests::read_unwritten_static_shared, kBlocks, shared_tests::kThreads, 0,
                     nullptr, floats.data(), ints.data(), doubles.data());
    ASSERT_TRUE(e.ok()) << e.message();
    for (int b = 0; b < kBlocks; ++b) {
      EXPECT_EQ(floats[b * shared_tests::kThreads], b + 1.0f);
      for (int t = 1; t < shared_tests::kThreads; ++t) {
        EXPECT_TRUE(std::isnan(floats[b * shared_tests::kThreads + t]))
            << "block " << b << " " << t;
      }
      for (int t = 0; t < shared_tests::kThreads; ++t) {
        EXPECT_EQ(ints[b * shared_tests::kThreads + t], -1) << "block " << b << " thread " << t;
      }
      EXPECT_TRUE(std::isnan(doubles[b])) << "block " << b;
    }
  }
}

TEST(StaticShared, PlainSharedIsNotPoisoned) {
  // The limit SIMT_SHARED removes (README): plain __shared__ is static
  // thread_local storage, so block 2 on the same worker reads block 1's 42s.
  const simt::ScopedConfig scoped(make_config(Schedule::kInOrder, 1));
  std::vector<float> floats(2 * shared_tests::kThreads, 0.0f);
  ASSERT_TRUE(simt::launch(shared_tests::read_unwritten_plain_shared, 2, shared_tests::kThreads, 0,
                           nullptr, floats.data())
                  .ok());
  for (int t = 0; t < shared_tests::kThreads; ++t) {
    EXPECT_EQ(floats[shared_tests::kThreads + t], 42.0f);
  }
}

TEST(StaticShared, AllThreadsOfABlockShareOneArrayUnderEverySchedule) {
  const simt::Config configs[] = {
      make_config(Schedule::kInOrder, 0), make_config(Schedule::kReverse, 0),
      make_config(Schedule::kRandom, 0, 1), make_config(Schedule::kRandom, 0, 2)};
  for (const simt::Config& config : configs) {
    const simt::ScopedConfig scoped(config);
    for (int n : {1, 33, 256, 1024}) {
      std::vector<int> out(size_t(5) * n, 0);
      ASSERT_TRUE(
          simt::launch(shared_tests::rotate_through_static_shared, 5, n, 0, nullptr, out.data())
              .ok());
      for (int b = 0; b < 5; ++b) {
        for (int t = 0; t < n; ++t) {
          // Thread t reads what t - 1 stored: minus thread t's first value.
          ASSERT_EQ(out[size_t(b) * n + t], -(1000 * b + t)) << "n " << n << " block " << b;
        }
      }
    }
  }
}

TEST(StaticShared, OneArrayPerBlockOnTheFastPathAlignedAsNvccAlignsIt) {
  const simt::ScopedConfig scoped(make_config(Schedule::kRandom, 1));
  constexpr int kBlocks = 3, kBlockThreads = 96;
  std::vector<uintptr_t> out(size_t(kBlocks) * kBlockThreads * 4, 0);
  simt::reset_stats();
  ASSERT_TRUE(
      simt::launch(shared_tests::record_addresses, kBlocks, kBlockThreads, 0, nullptr, out.data())
          .ok());
  EXPECT_EQ(simt::stats().fibers, uint64_t{kBlocks}) << "no barrier: one runner fiber per block";
  for (int b = 0; b < kBlocks; ++b) {
    const uintptr_t* first = &out[size_t(b) * kBlockThreads * 4];
    for (int t = 1; t < kBlockThreads; ++t) {
      for (int i = 0; i < 4; ++i) ASSERT_EQ(first[t * 4 + i], first[i]) << "block " << b;
    }
    // nvcc's alignment: at least 16 bytes, more where the type needs it.
    EXPECT_EQ(first[0] % 16, 0u);
    EXPECT_EQ(first[1] % 16, 0u);
    EXPECT_EQ(first[2] % 64, 0u);
    EXPECT_EQ(first[3] % 16, 0u);
    // Four arrays that do not overlap.
    const std::pair<uintptr_t, size_t> arrays[] = {{first[0], 33 * sizeof(float)},
                                                   {first[1], 3},
                                                   {first[2], sizeof(shared_tests::Wide)},
                                                   {first[3], 2 * sizeof(float4)}};
    for (const auto& [p, size] : arrays) {
      for (const auto& [q, other_size] : arrays) {
        if (p != q) {
          EXPECT_TRUE(p + size <= q || q + other_size <= p);
        }
      }
    }
  }
}

TEST(StaticShared, OneArrayPerDeclarationAndInstantiation) {
  for (Schedule s : {Schedule::kInOrder, Schedule::kReverse, Schedule::kRandom}) {
    const simt::ScopedConfig scoped(make_config(s, 0));
    std::vector<int> same(64, 0), different(64, 0);
    std::vector<float> kept(64, 0.0f);
    ASSERT_TRUE(simt::launch(shared_tests::declarations_and_instantiations, 1, 64, 0, nullptr,
                             same.data(), different.data(), kept.data())
                    .ok());
    for (int t = 0; t < 64; ++t) {
      EXPECT_EQ(same[t], 1) << t;
      EXPECT_EQ(different[t], 1) << t;
      EXPECT_EQ(kept[t], 5.0f) << t;
    }
  }
}

TEST(StaticShared, BlocksOnDifferentWorkersHaveTheirOwnArrays) {
  const simt::ScopedConfig scoped(make_config(Schedule::kRandom, 4));
  constexpr int kBlocks = 48;
  int wrong = 0;
  std::vector<unsigned long long> worker_ids(kBlocks, 0);
  ASSERT_TRUE(simt::launch(shared_tests::keep_own_values, kBlocks, 256, 0, nullptr, &wrong,
                           worker_ids.data())
                  .ok());
  EXPECT_EQ(wrong, 0);
  const std::set<unsigned long long> workers(worker_ids.begin(), worker_ids.end());
  EXPECT_GE(workers.size(), 2u) << "the blocks must run on several workers to test anything";
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

void read_past_static_shared(std::vector<float>& out) {
  (void)simt::launch(shared_tests::read_past_static_shared, 1, 32, 0, nullptr, out.data());
}

TEST(StaticShared, ReadingPastAnArrayReadsNaNNotTheNextArray) {
  if (kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer stops this read (the test below)";
  // On a GPU thread 31 would read second[0] (2.0); here a poisoned gap
  // separates the arrays.
  std::vector<float> out(32, 0.0f);
  read_past_static_shared(out);
  for (int t = 0; t < 31; ++t) EXPECT_EQ(out[t], 1.0f);
  EXPECT_TRUE(std::isnan(out[31]));
}

TEST(StaticSharedUnderAsan, ReadingPastAnArrayIsCaught) {
  if (!kAddressSanitizer) GTEST_SKIP() << "needs the sanitizer build (tools/test runs one)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<float> out(32, 0.0f);
  EXPECT_DEATH(read_past_static_shared(out), "use-after-poison");
}

TEST(StaticSharedLimits, StaticAndDynamicTogetherMayUse48KiB) {
  std::vector<float> out(32, 0.0f);
  auto* kernel = shared_tests::uses_static_shared<1, 8192>;  // 32 KiB
  forget(kernel);
  simt::Error e = simt::launch(kernel, 2, 32, 16 * 1024, nullptr, out.data());
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(out[31], 31.0f);
  e = simt::launch(kernel, 2, 32, 0, nullptr, out.data());
  EXPECT_TRUE(e.ok()) << e.message();
}

TEST(StaticSharedLimits, StaticAndDynamicOver48KiBAreRefused) {
  std::vector<float> out(32, 0.0f);
  auto* kernel = shared_tests::uses_static_shared<2, 8192>;  // 32 KiB
  forget(kernel);
  const char* why =
      "32768 bytes of static and 16388 bytes of dynamic shared memory exceed the kernel's limit "
      "of 49152 bytes; more needs simt::set_max_dynamic_shared";
  // The first launch learns the static size when the declaration runs...
  uint64_t launches = simt::stats().launches;
  simt::Error e = simt::launch(kernel, 2, 32, 16 * 1024 + 4, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), why));
  EXPECT_TRUE(Contains(e.message(), "uses_static_shared<2, 8192>"));
  EXPECT_TRUE(Contains(e.message(), "SIMT_SHARED(big) at test_simt_shared.cpp:"));
  EXPECT_EQ(simt::stats().launches, launches + 1);
  // ...later ones are refused before anything runs, as on a GPU.
  launches = simt::stats().launches;
  e = simt::launch(kernel, 2, 32, 16 * 1024 + 4, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), why));
  EXPECT_EQ(simt::stats().launches, launches) << "refused before it ran";
  // Within the limit it still runs.
  EXPECT_TRUE(simt::launch(kernel, 2, 32, 16 * 1024, nullptr, out.data()).ok());
}

TEST(StaticSharedLimits, StaticOver48KiBIsRefusedEvenWithTheOptIn) {
  std::vector<float> out(32, 0.0f);
  const char* why =
      "49156 bytes of static shared memory exceed the limit of 49152 bytes (nvcc refuses the "
      "kernel)";
  auto* kernel = shared_tests::two_arrays_over_the_static_limit<1>;
  forget(kernel);
  simt::Error e = simt::launch(kernel, 1, 32, 0, nullptr, out.data());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), why));
  EXPECT_TRUE(Contains(e.message(), "SIMT_SHARED(second)"));

  auto* opted_in = shared_tests::two_arrays_over_the_static_limit<2>;
  forget(opted_in);
  ASSERT_TRUE(simt::set_max_dynamic_shared(opted_in, 1024).ok());
  e = simt::launch(opted_in, 1, 32, 0, nullptr, out.data());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), why));
  e = simt::launch(opted_in, 1, 32, 0, nullptr, out.data());  // now known before it runs
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), why));
}

TEST(StaticSharedLimits, TheOptInCountsStaticSharedMemoryToo) {
  std::vector<float> out(32, 0.0f);
  auto* kernel = shared_tests::uses_static_shared<3, 8192>;  // 32 KiB
  forget(kernel);
  // 32 KiB static and 100 KiB dynamic: over 48 KiB, fine with the opt-in.
  ASSERT_TRUE(simt::set_max_dynamic_shared(kernel, 100 * 1024).ok());
  simt::Error e = simt::launch(kernel, 2, 32, 100 * 1024, nullptr, out.data());
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(out[31], 31.0f);
  // With the static size known, an opt-in that leaves it no room is refused
  // as cudaFuncSetAttribute refuses it.
  e = simt::set_max_dynamic_shared(kernel, 200 * 1024);
  EXPECT_EQ(e.code(), simt::kInvalidValue);
  EXPECT_TRUE(Contains(e.message(), "with the kernel's 32768 bytes of static shared memory"));

  // Not yet known: the first launch finds out while it runs.
  auto* unknown = shared_tests::uses_static_shared<4, 8192>;
  forget(unknown);
  ASSERT_TRUE(simt::set_max_dynamic_shared(unknown, 200 * 1024).ok());
  e = simt::launch(unknown, 1, 32, 1024, nullptr, out.data());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(),
                       "32768 bytes of static shared memory and the opt-in of 204800 bytes of "
                       "dynamic shared memory exceed the maximum of 232448 bytes"));
  e = simt::launch(unknown, 1, 32, 1024, nullptr, out.data());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(), "and the opt-in of 204800 bytes"));
}

}  // namespace
