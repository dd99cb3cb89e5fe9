// Every deliberately broken kernel in broken_kernels.h is caught: a missing
// barrier gives wrong results under the reverse or random schedule, a read of
// shared memory nobody wrote gives NaN under every schedule, and misuse
// of barriers and warp collectives comes back as an error naming the kernel
// and where its threads wait, never as a hang or a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/simt/samples/samples_cuda.cuh"
#include "kernels/simt/simt.h"
#include "tests/simt/broken_kernels.h"

namespace {

using simt::Schedule;

// Passes when `text` contains `part`; otherwise shows the whole text.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

simt::Config schedule(Schedule s, uint64_t seed = 1) {
  simt::Config c;
  c.schedule = s;
  c.seed = seed;
  return c;
}

// The random schedules the tests try: a missing barrier must show in each.
constexpr uint64_t kSeeds[] = {1, 2, 3, 4, 5};

std::vector<float> random_floats(size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Largest |c - a b| of the broken SGEMM under `config`.
double sgemm_missing_sync_error(const simt::Config& config, int m, int n, int k) {
  const simt::ScopedConfig scoped(config);
  const auto a = random_floats(size_t(m) * k, -1.0f, 1.0f, 1);
  const auto b = random_floats(size_t(k) * n, -1.0f, 1.0f, 2);
  std::vector<float> c(size_t(m) * n, 0.0f);
  const simt::Error e =
      simt::launch(simt_tests::sgemm_missing_second_sync<32>, dim3((n + 31) / 32, (m + 31) / 32),
                   dim3(32, 32), 0, nullptr, a.data(), b.data(), c.data(), m, n, k);
  EXPECT_TRUE(e.ok()) << e.message();
  double worst = 0.0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = 0.0;
      for (int p = 0; p < k; ++p) ref += double(a[size_t(i) * k + p]) * b[size_t(p) * n + j];
      worst = std::max(worst, std::fabs(c[size_t(i) * n + j] - ref));
    }
  }
  return worst;
}

// A correct result differs by rounding only (< 1e-4 for these sizes);
// a race gives errors of order 1.
constexpr double kWrong = 1e-2;

TEST(BrokenKernels, SgemmWithoutSecondBarrierFailsUnderReverseAndRandom) {
  EXPECT_GT(sgemm_missing_sync_error(schedule(Schedule::kReverse), 33, 17, 45), kWrong);
  EXPECT_GT(sgemm_missing_sync_error(schedule(Schedule::kReverse), 129, 65, 70), kWrong);
  for (uint64_t seed : kSeeds) {
    EXPECT_GT(sgemm_missing_sync_error(schedule(Schedule::kRandom, seed), 33, 17, 45), kWrong)
        << "seed " << seed;
  }
}

TEST(BrokenKernels, SgemmWithoutSecondBarrierNeedsMoreThanOneTileToShow) {
  // With K <= 32 there is no next tile to overwrite the current one: the bug
  // is invisible, which is why kernel tests use K larger than the tile.
  for (uint64_t seed : kSeeds) {
    EXPECT_LT(sgemm_missing_sync_error(schedule(Schedule::kRandom, seed), 40, 40, 32), 1e-4);
  }
}

// How many elements of c the SGEMM that never loads the last column of its
// a tile leaves as numbers (not NaN) under `config`. The correct SGEMM runs
// first on the same workers, so the arena holds real tiles from earlier
// blocks: only poisoning at the start of every block makes them NaN.
int sgemm_skipping_column_numbers(const simt::Config& config, int m, int n, int k) {
  const simt::ScopedConfig scoped(config);
  const auto a = random_floats(size_t(m) * k, -1.0f, 1.0f, 1);
  const auto b = random_floats(size_t(k) * n, -1.0f, 1.0f, 2);
  std::vector<float> c(size_t(m) * n, 0.0f);
  const dim3 grid((n + 31) / 32, (m + 31) / 32);
  simt::Error e = simt::launch(medtex::simt_samples::kernels::sgemm_tiled<32>, grid, dim3(32, 32),
                               0, nullptr, a.data(), b.data(), c.data(), m, n, k);
  EXPECT_TRUE(e.ok()) << e.message();
  EXPECT_FALSE(std::isnan(c[0])) << "the correct SGEMM gives numbers";
  e = simt::launch(simt_tests::sgemm_tile_skips_last_column<32>, grid, dim3(32, 32), 0, nullptr,
                   a.data(), b.data(), c.data(), m, n, k);
  EXPECT_TRUE(e.ok()) << e.message();
  int numbers = 0;
  for (float v : c) numbers += std::isnan(v) ? 0 : 1;
  return numbers;
}

TEST(BrokenKernels, SgemmTileLoadSkippingAColumnGivesNaNEvenInOrder) {
  // One worker: blocks 2 to 4 run where block 1's tiles were, and the correct
  // SGEMM's before them. In order, the schedule that hides most bugs.
  simt::Config one_worker = schedule(Schedule::kInOrder);
  one_worker.workers = 1;
  EXPECT_EQ(sgemm_skipping_column_numbers(one_worker, 40, 40, 45), 0);
  EXPECT_EQ(sgemm_skipping_column_numbers(one_worker, 64, 64, 64), 0);
  EXPECT_EQ(sgemm_skipping_column_numbers(schedule(Schedule::kInOrder), 129, 65, 70), 0);
  EXPECT_EQ(sgemm_skipping_column_numbers(schedule(Schedule::kReverse), 33, 17, 45), 0);
  for (uint64_t seed : kSeeds) {
    EXPECT_EQ(sgemm_skipping_column_numbers(schedule(Schedule::kRandom, seed), 33, 17, 45), 0)
        << "seed " << seed;
  }
}

// The sum of x = 1, 2, ..., n by a reduction kernel with 128-thread blocks.
float reduce_with(void (*kernel)(const float*, int, float*), const simt::Config& config, int n) {
  const simt::ScopedConfig scoped(config);
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[i] = float(i + 1);
  float sum = 0.0f;
  const simt::Error e = simt::launch(kernel, dim3(4), dim3(128), 0, nullptr, x.data(), n, &sum);
  EXPECT_TRUE(e.ok()) << e.message();
  return sum;
}

TEST(BrokenKernels, ReductionReadingUnwrittenPartialsGivesNaN) {
  constexpr int kN = 1000;
  constexpr float kExact = kN * (kN + 1) / 2.0f;  // 500500: exact in float
  std::vector<simt::Config> configs = {schedule(Schedule::kInOrder), schedule(Schedule::kReverse)};
  for (uint64_t seed : kSeeds) configs.push_back(schedule(Schedule::kRandom, seed));
  for (const simt::Config& c : configs) {
    EXPECT_TRUE(std::isnan(reduce_with(simt_tests::reduce_unwritten_partials<128>, c, kN)))
        << "schedule " << int(c.schedule) << " seed " << c.seed;
    // The same bug with plain __shared__ reads zeros and passes everywhere:
    // the reason kernels declare static shared memory with SIMT_SHARED.
    EXPECT_EQ(reduce_with(simt_tests::reduce_unwritten_partials_plain_shared<128>, c, kN), kExact);
  }
}

double softmax_missing_sync_error(const simt::Config& config) {
  const simt::ScopedConfig scoped(config);
  constexpr int kRows = 6, kCols = 300, kBlock = 128;
  const auto x = random_floats(size_t(kRows) * kCols, -8.0f, 8.0f, 3);
  std::vector<float> y(x.size(), 0.0f);
  const simt::Error e =
      simt::launch(simt_tests::softmax_missing_broadcast_sync<kBlock>, dim3(kRows), dim3(kBlock),
                   kBlock / 32 * sizeof(float), nullptr, x.data(), y.data(), kCols);
  EXPECT_TRUE(e.ok()) << e.message();
  double worst = 0.0;
  for (int r = 0; r < kRows; ++r) {
    double mx = -INFINITY, sum = 0.0;
    for (int c = 0; c < kCols; ++c) mx = std::max(mx, double(x[r * kCols + c]));
    for (int c = 0; c < kCols; ++c) sum += std::exp(x[r * kCols + c] - mx);
    for (int c = 0; c < kCols; ++c) {
      const double ref = std::exp(x[r * kCols + c] - mx) / sum;
      const double got = y[r * kCols + c];
      worst = std::isnan(got) ? INFINITY : std::max(worst, std::fabs(got - ref) / ref);
    }
  }
  return worst;
}

TEST(BrokenKernels, SoftmaxWithoutBroadcastBarrierFailsUnderReverseAndRandom) {
  EXPECT_GT(softmax_missing_sync_error(schedule(Schedule::kReverse)), kWrong);
  for (uint64_t seed : kSeeds) {
    EXPECT_GT(softmax_missing_sync_error(schedule(Schedule::kRandom, seed)), kWrong)
        << "seed " << seed;
  }
}

TEST(BrokenKernels, SoftmaxWithoutBroadcastBarrierIsHiddenInOrder) {
  // Thread 0 writes before the others read when threads run in order: this
  // bug needs the reverse or random schedule, so kernel tests run those.
  EXPECT_LT(softmax_missing_sync_error(schedule(Schedule::kInOrder)), 1e-5);
}

TEST(BrokenKernels, DivergentBarrierIsReported) {
  std::vector<float> out(64, 0.0f);
  for (Schedule s : {Schedule::kInOrder, Schedule::kReverse, Schedule::kRandom}) {
    const simt::ScopedConfig scoped(schedule(s));
    const simt::Error e =
        simt::launch(simt_tests::divergent_barrier, 1, 64, 0, nullptr, out.data());
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.code(), simt::kLaunchFailure);
    EXPECT_TRUE(Contains(e.message(), "simt_tests::emu_impl::divergent_barrier"));
    EXPECT_TRUE(Contains(e.message(), "launched at test_simt_broken.cpp:"));
    EXPECT_TRUE(Contains(e.message(), "divergent __syncthreads"));
    EXPECT_TRUE(Contains(e.message(), "threads 0-15: wait at __syncthreads at broken_kernels.h:"));
    EXPECT_TRUE(Contains(e.message(), "threads 16-63: wait at __syncthreads at broken_kernels.h:"));
  }
}

TEST(BrokenKernels, DivergentBarrierOnOneLineIsReported) {
  std::vector<float> out(32, 0.0f);
  const simt::Error e =
      simt::launch(simt_tests::divergent_barrier_one_line, 1, 32, 0, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.message(), "divergent __syncthreads"));
}

TEST(BrokenKernels, ShuffleWithMissingLanesIsReportedNotHung) {
  std::vector<float> out(64, 0.0f);
  const simt::Error e =
      simt::launch(simt_tests::shuffle_missing_lanes, 1, 64, 0, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), simt::kLaunchFailure);
  EXPECT_TRUE(Contains(e.message(), "shuffle_missing_lanes"));
  EXPECT_TRUE(Contains(e.message(), "deadlock"));
  EXPECT_TRUE(Contains(e.message(), "threads 0-15: wait in __shfl_down_sync at broken_kernels.h:"));
  EXPECT_TRUE(Contains(e.message(), "with mask 0xffffffff"));
  EXPECT_TRUE(Contains(e.message(), "threads 16-63: wait at __syncthreads"));
  EXPECT_TRUE(Contains(e.message(),
                       "warp 0 lanes 0x0000ffff in __shfl_down_sync wait for lanes "
                       "0xffff0000, which never arrive"));
}

TEST(BrokenKernels, MismatchedCollectivesAreReported) {
  std::vector<unsigned> out(32, 0);
  const simt::Error e =
      simt::launch(simt_tests::mismatched_collectives, 1, 32, 0, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.message(), "meet in different collectives"));
  EXPECT_TRUE(Contains(e.message(), "__shfl_xor_sync"));
  EXPECT_TRUE(Contains(e.message(), "__ballot_sync"));
}

TEST(BrokenKernels, MaskWithoutOwnLaneIsReported) {
  std::vector<float> out(32, 0.0f);
  const simt::Error e =
      simt::launch(simt_tests::mask_without_own_lane, 1, 32, 0, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.message(), "mask 0x00000001, which does not name the lane itself"));
}

TEST(BrokenKernels, UnwrittenDynamicSharedMemoryReadsNaN) {
  // Two blocks on one worker, in order: the second must not see what the first
  // wrote either (shared memory is poisoned at the start of every block).
  simt::Config c = schedule(Schedule::kInOrder);
  c.workers = 1;
  const simt::ScopedConfig scoped(c);
  std::vector<float> out(2 * 64, 0.0f);
  const simt::Error e = simt::launch(simt_tests::read_unwritten_dynamic_shared, 2, 64,
                                     64 * sizeof(float), nullptr, out.data());
  ASSERT_TRUE(e.ok()) << e.message();
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(out[b * 64], 1.0f);
    for (int t = 1; t < 64; ++t) EXPECT_TRUE(std::isnan(out[b * 64 + t])) << b << " " << t;
  }
}

TEST(BrokenKernels, BarrierAfterEarlyExitIsAnErrorInStrictMode) {
  std::vector<float> out(64, 0.0f);
  {
    // Default: allowed, as on recent GPUs.
    const simt::Error e =
        simt::launch(simt_tests::barrier_after_early_exit, 1, 64, 0, nullptr, out.data(), 40);
    ASSERT_TRUE(e.ok()) << e.message();
    EXPECT_EQ(out[39], 3.0f);
    EXPECT_EQ(out[40], 0.0f);
  }
  simt::Config c;
  c.strict_barriers = true;
  const simt::ScopedConfig scoped(c);
  const simt::Error e =
      simt::launch(simt_tests::barrier_after_early_exit, 1, 64, 0, nullptr, out.data(), 40);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.message(), "reached after other threads of the block exited"));
  EXPECT_TRUE(Contains(e.message(), "threads 40-63: exited"));
}

TEST(BrokenKernels, ExceptionInAKernelIsReported) {
  std::vector<float> out(64, 0.0f);
  const simt::Error e = simt::launch(simt_tests::throws_on_thread_5, 3, 64, 0, nullptr, out.data());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), simt::kLaunchFailure);
  EXPECT_TRUE(Contains(e.message(), "thread (5,0,0) threw an exception: thread five gives up"));
}

TEST(BrokenKernels, TheEmulatorRecoversAfterAFailedLaunch) {
  // Failed blocks unwind their fibers; the stacks go back to the pool and the
  // next launch runs normally.
  std::vector<float> out(64, 0.0f);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(
        simt::launch(simt_tests::shuffle_missing_lanes, 4, 64, 0, nullptr, out.data()).ok());
    EXPECT_FALSE(simt::launch(simt_tests::divergent_barrier, 4, 64, 0, nullptr, out.data()).ok());
  }
  const simt::Error e =
      simt::launch(simt_tests::barrier_after_early_exit, 1, 64, 0, nullptr, out.data(), 64);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(out[63], 3.0f);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

void copy_past_the_end() {
  std::vector<float> x(100, 1.0f), y(100, 0.0f);
  (void)simt::launch(simt_tests::copy_without_bounds_check, 1, 128, 0, nullptr, x.data(), y.data(),
                     100);
}

void read_past_dynamic_shared() {
  std::vector<float> out(32, 0.0f);
  // A larger launch first, so the reused buffer has room beyond the small one:
  // those bytes are poisoned, not just the heap's redzone.
  simt::Config one_worker;
  one_worker.workers = 1;
  const simt::ScopedConfig scoped(one_worker);
  (void)simt::launch(simt_tests::read_past_dynamic_shared, 1, 32, 1024 * sizeof(float), nullptr,
                     out.data(), 32);
  (void)simt::launch(simt_tests::read_past_dynamic_shared, 1, 32, 32 * sizeof(float), nullptr,
                     out.data(), 32);
}

// Out-of-bounds accesses are AddressSanitizer's job; it stops the process, so
// these run as death tests (in a fresh process: "threadsafe" style, because
// the emulator's worker threads must not be forked).
TEST(BrokenKernelsUnderAsan, OutOfBoundsGlobalAccessIsCaught) {
  if (!kAddressSanitizer) GTEST_SKIP() << "needs the sanitizer build (tools/test runs one)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(copy_past_the_end(), "heap-buffer-overflow");
}

TEST(BrokenKernelsUnderAsan, ReadingPastDynamicSharedMemoryIsCaught) {
  if (!kAddressSanitizer) GTEST_SKIP() << "needs the sanitizer build (tools/test runs one)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(read_past_dynamic_shared(), "use-after-poison");
}

}  // namespace
