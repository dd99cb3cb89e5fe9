// Running a test on the GPU backends: the SIMT emulator everywhere, a real
// GPU where there is one.
//
//   class ReluCuda : public test::GpuTest {};
//   TEST_P(ReluCuda, ForwardMatchesCpu) {
//     const Tensor x = test::random_float({3, 5, 7}, 1);
//     const auto got = test::run_all_schedules([&] { return std::vector{ops::relu(test::to_gpu(x))}; });
//     EXPECT_TRUE(test::all_close(got[0], ops::relu(x), 0, 0));
//   }
//   MT_GPU_TEST_SUITE(ReluCuda);
//
// MT_GPU_TEST_SUITE instantiates each test twice: `Emulated/...` runs the
// kernels under the emulator; `Cuda/...` runs them on the GPU and is SKIPPED
// (with the reason) on a machine without one: never reported as passed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "kernels/runtime/gpu.h"
#include "tests/support/compare.h"    // all_close, bitwise_equal
#include "tests/support/gradcheck.h"  // random_float, random_double

namespace medtex::test {

enum class GpuTarget { kEmulated, kCuda };

class GpuTest : public ::testing::TestWithParam<GpuTarget> {
 protected:
  void SetUp() override;     // selects the backend, or skips Cuda without a GPU
  void TearDown() override;  // back to no backend; fails if tensors leaked
  bool emulated() const { return GetParam() == GpuTarget::kEmulated; }
};

std::string gpu_target_name(const ::testing::TestParamInfo<GpuTarget>& info);
void PrintTo(GpuTarget t, std::ostream* os);  // "emulated" / "cuda" in test listings

#define MT_GPU_TEST_SUITE(Suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(, Suite,                                                       \
                           ::testing::Values(::medtex::test::GpuTarget::kEmulated,        \
                                             ::medtex::test::GpuTarget::kCuda),           \
                           ::medtex::test::gpu_target_name)

// The thread schedules every emulated kernel test runs under: reverse order
// and three seeded random orders. (Under a real GPU: the hardware's one.)
std::vector<std::string> schedule_names();

// Runs `run` once per schedule (once on a real GPU) and returns its tensors,
// copied to the CPU. Adds a test failure if any schedule's results differ in a
// single bit from the first's: the kernels must be race-free and deterministic.
std::vector<Tensor> run_all_schedules(const std::function<std::vector<Tensor>()>& run);

// A copy of t on Device::cuda() (the active backend). t keeps requires_grad
// off; mark the result if a gradient is wanted.
Tensor to_gpu(const Tensor& t);

}  // namespace medtex::test
