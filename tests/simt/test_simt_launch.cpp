// Launch configurations a GPU would refuse are refused with the CUDA error
// code and a message naming the kernel; the limits themselves are accepted.
// Also: the dynamic shared memory opt-in, nested launches, and the SIMT_*
// environment settings.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "kernels/simt/settings.h"
#include "kernels/simt/simt.h"

namespace launch_tests {
inline namespace SIMT_NS {

__global__ void count_threads(unsigned* counter) {
  atomicAdd(counter, 1u);
}

// One instantiation per test, so the per-kernel opt-in does not leak.
template <int kId>
__global__ void use_dynamic_shared(size_t bytes, int* ok) {
  SIMT_DYNAMIC_SHARED(unsigned char, buffer);
  if (threadIdx.x == 0) {
    buffer[0] = 1;
    buffer[bytes - 1] = 2;  // the whole range is usable
    *ok = buffer[0] == 1 && buffer[bytes - 1] == 2;
  }
}

__global__ void launches_another(simt::Error* inner, unsigned* counter) {
  *inner = simt::launch(count_threads, 1, 1, 0, nullptr, counter);
}

}  // namespace SIMT_NS
}  // namespace launch_tests

namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

simt::Error launch_count(dim3 grid, dim3 block, unsigned* counter) {
  return simt::launch(launch_tests::count_threads, grid, block, 0, nullptr, counter);
}

TEST(LaunchConfiguration, InvalidBlocksAndGridsAreRefused) {
  struct Bad {
    dim3 grid, block;
    const char* why;
  };
  const Bad cases[] = {
      {dim3(1), dim3(1025), "exceeds the per-dimension limits"},
      {dim3(1), dim3(1, 1025), "exceeds the per-dimension limits"},
      {dim3(1), dim3(1, 1, 65), "exceeds the per-dimension limits"},
      {dim3(1), dim3(33, 32), "has 1056 threads; a block may have at most 1024"},
      {dim3(1), dim3(16, 16, 8), "has 2048 threads"},
      {dim3(1), dim3(0), "has a zero dimension"},
      {dim3(0), dim3(32), "grid (0, 1, 1) has a zero dimension"},
      {dim3(1, 65536), dim3(32), "exceeds the limits"},
      {dim3(1, 1, 65536), dim3(32), "exceeds the limits"},
      {dim3(2147483648u), dim3(32), "exceeds the limits"},
  };
  unsigned counter = 0;
  for (const Bad& c : cases) {
    const simt::Error e = launch_count(c.grid, c.block, &counter);
    ASSERT_FALSE(e.ok()) << c.why;
    EXPECT_EQ(e.code(), simt::kInvalidConfiguration);  // cudaErrorInvalidConfiguration
    EXPECT_TRUE(Contains(e.message(), c.why));
    EXPECT_TRUE(
        Contains(e.message(), "kernel launch_tests::emu_impl::count_threads(unsigned int*)"));
    EXPECT_TRUE(Contains(e.message(), "launched at test_simt_launch.cpp:"));
  }
  EXPECT_EQ(counter, 0u) << "a refused launch must not run";
}

TEST(LaunchConfiguration, TheLimitsThemselvesAreAccepted) {
  const struct {
    dim3 grid, block;
  } cases[] = {{dim3(1), dim3(1024)},         {dim3(1), dim3(1, 1024)},
               {dim3(1), dim3(1, 16, 64)},    {dim3(1), dim3(32, 32)},
               {dim3(3, 65535), dim3(1)},     {dim3(1, 2, 65535), dim3(1)},
               {dim3(2, 3, 4), dim3(5, 6, 7)}};
  for (const auto& c : cases) {
    unsigned counter = 0;
    const simt::Error e = launch_count(c.grid, c.block, &counter);
    ASSERT_TRUE(e.ok()) << e.message();
    EXPECT_EQ(counter, c.grid.x * c.grid.y * c.grid.z * c.block.x * c.block.y * c.block.z);
  }
}

TEST(DynamicSharedMemory, Over48KiBNeedsTheOptIn) {
  int ok = 0;
  auto* kernel = launch_tests::use_dynamic_shared<1>;
  EXPECT_TRUE(simt::launch(kernel, 1, 32, 48 * 1024, nullptr, size_t{48 * 1024}, &ok).ok());
  EXPECT_EQ(ok, 1);
  const simt::Error e = simt::launch(kernel, 1, 32, 48 * 1024 + 1, nullptr, size_t{1}, &ok);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(e.message(),
                       "49153 bytes of dynamic shared memory exceed the kernel's "
                       "limit of 49152 bytes"));
  EXPECT_TRUE(Contains(e.message(), "simt::set_max_dynamic_shared"));
  EXPECT_TRUE(Contains(e.message(), "use_dynamic_shared<1>"));
}

TEST(DynamicSharedMemory, TheOptInRaisesTheLimitUpTo227KiB) {
  int ok = 0;
  auto* kernel = launch_tests::use_dynamic_shared<2>;
  ASSERT_TRUE(simt::set_max_dynamic_shared(kernel, 100 * 1024).ok());
  EXPECT_TRUE(simt::launch(kernel, 1, 32, 100 * 1024, nullptr, size_t{100 * 1024}, &ok).ok());
  EXPECT_EQ(ok, 1);
  const simt::Error over = simt::launch(kernel, 1, 32, 100 * 1024 + 1, nullptr, size_t{1}, &ok);
  EXPECT_EQ(over.code(), simt::kInvalidConfiguration);
  EXPECT_TRUE(Contains(over.message(), "exceed the kernel's limit of 102400 bytes"));

  ASSERT_TRUE(simt::set_max_dynamic_shared(kernel, simt::kMaxDynamicSharedOptIn).ok());
  ok = 0;
  EXPECT_TRUE(simt::launch(kernel, 2, 32, simt::kMaxDynamicSharedOptIn, nullptr,
                           simt::kMaxDynamicSharedOptIn, &ok)
                  .ok());
  EXPECT_EQ(ok, 1);
  // Past the hardware's opt-in maximum the attribute itself is refused, as
  // cudaFuncSetAttribute refuses it with cudaErrorInvalidValue.
  const simt::Error attr = simt::set_max_dynamic_shared(kernel, 227 * 1024 + 1);
  EXPECT_EQ(attr.code(), simt::kInvalidValue);
  EXPECT_TRUE(Contains(attr.message(), "above the opt-in maximum of 232448 bytes"));
  // The opt-in is per kernel.
  EXPECT_FALSE(
      simt::launch(launch_tests::use_dynamic_shared<3>, 1, 32, 100 * 1024, nullptr, size_t{1}, &ok)
          .ok());
}

TEST(Launch, FromInsideAKernelIsAnError) {
  simt::Error inner;
  unsigned counter = 0;
  ASSERT_TRUE(
      simt::launch(launch_tests::launches_another, 1, 1, 0, nullptr, &inner, &counter).ok());
  EXPECT_EQ(inner.code(), simt::kLaunchFailure);
  EXPECT_TRUE(Contains(inner.message(), "dynamic parallelism is not emulated"));
  EXPECT_EQ(counter, 0u);
}

TEST(Launch, ArgumentsConvertToTheKernelsParameterTypes) {
  // An int converts to size_t and a float* to const float*, as in CUDA.
  int ok = 0;
  EXPECT_TRUE(simt::launch(launch_tests::use_dynamic_shared<4>, 1, 1, 16, nullptr, 16, &ok).ok());
  EXPECT_EQ(ok, 1);
}

TEST(Settings, EnvironmentVariablesAreRead) {
  const std::map<std::string, const char*> env = {{"SIMT_SCHED", "reverse"},
                                                  {"SIMT_SEED", "42"},
                                                  {"SIMT_WORKERS", "3"},
                                                  {"SIMT_STACK_KB", "128"},
                                                  {"SIMT_STRICT", "1"}};
  std::string error;
  const simt::Config c = simt::detail::config_from_environment(
      [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second;
      },
      &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(c.schedule, simt::Schedule::kReverse);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.stack_bytes, 128u * 1024);
  EXPECT_TRUE(c.strict_barriers);
}

TEST(Settings, MalformedVariablesAreReported) {
  const std::pair<const char*, const char*> bad[] = {
      {"SIMT_SCHED", "shuffled"}, {"SIMT_SEED", "-1"},    {"SIMT_SEED", "12x"},
      {"SIMT_WORKERS", "many"},   {"SIMT_STACK_KB", "4"}, {"SIMT_STRICT", "yes"}};
  for (const auto& [name, value] : bad) {
    std::string error;
    const simt::Config c = simt::detail::config_from_environment(
        [&](const char* n) -> const char* { return std::string(n) == name ? value : nullptr; },
        &error);
    EXPECT_TRUE(Contains(error, std::string(name) + "='" + value + "' is not"));
    EXPECT_EQ(c.schedule, simt::Config().schedule);  // the default stays
  }
}

}  // namespace
