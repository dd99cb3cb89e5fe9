// topk_mask on the GPU backends against its CPU twin, every kernel version.
// A 0/1 selection: the masks must be equal exactly, ties and NaNs included.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/topk_mask/topk_mask.h"
#include "kernels/topk_mask/topk_mask_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class TopkMaskCuda : public test::GpuTest {};

enum class Values { kDistinct, kFewLevels, kWithNanAndZeros };

// x: [N, D]. kFewLevels rounds to 3 levels, so most comparisons are ties;
// kWithNanAndZeros adds NaNs, -0 and +0 (equal, so tied) and infinities.
Tensor make_input(int64_t N, int64_t D, Values kind, uint64_t seed) {
  std::vector<float> x = test::random_float({N, D}, seed).to_vector<float>();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < x.size(); ++i) {
    if (kind == Values::kFewLevels) x[i] = std::round(x[i]);  // -1, 0, 1 (and -0)
    if (kind == Values::kWithNanAndZeros) {
      const float special[] = {nan, -0.f, 0.f, inf, -inf, nan};
      if (i % 5 == seed % 5) x[i] = special[(i / 5) % 6];
    }
  }
  return Tensor::from_vector(x, {N, D});
}

TEST_P(TopkMaskCuda, EveryVersionMatchesTheCpuTwinExactly) {
  for (Values kind : {Values::kDistinct, Values::kFewLevels, Values::kWithNanAndZeros}) {
    for (const auto& [N, D] :
         std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {5, 33}, {2, 64}, {3, 70}}) {
      const Tensor x = make_input(N, D, kind, uint64_t(N * 100 + D));
      // Picks from the best end (k <= D / 2) and from the worst end, k = D included.
      std::vector<int64_t> ks = {1, 2, D / 2, D / 2 + 1, D - 1, D};
      for (int64_t k : ks) {
        if (k < 1 || k > D) continue;
        Tensor want = Tensor::empty({N, D});
        cpu::topk_mask<float>(N, D, k, x.data<float>(), want.data<float>());
        for (gpu::TopkMaskVersion v :
             {gpu::TopkMaskVersion::kV1ThreadPerRow, gpu::TopkMaskVersion::kV2WarpPerRow}) {
          SCOPED_TRACE(::testing::Message() << "values " << int(kind) << " x [" << N << ", " << D
                                            << "] k=" << k << " v" << int(v));
          const auto got = test::run_all_schedules([&] {
            const Tensor gx = test::to_gpu(x);
            Tensor mask = Tensor::full({N, D}, -7.0, DType::F32, Device::cuda());
            MT_GPU(topk_mask)(N, D, k, gx.data<float>(), mask.data<float>(), v);
            return std::vector<Tensor>{mask};
          });
          EXPECT_TRUE(test::bitwise_equal(got[0], want));
        }
      }
    }
  }
}

// The explainer's shape (64 patch logits, k = 8) at batch 37: more rows than
// one block holds, many ties.
TEST_P(TopkMaskCuda, ExplainerShapeThroughTheOp) {
  const Tensor x = make_input(37, 64, Values::kFewLevels, 9);
  const auto got = test::run_all_schedules([&] {
    const Tensor mask = ops::topk_mask(test::to_gpu(x), 8);
    EXPECT_TRUE(mask.device().is_cuda());
    EXPECT_FALSE(mask.requires_grad());
    return std::vector<Tensor>{mask};
  });
  EXPECT_TRUE(test::bitwise_equal(got[0], ops::topk_mask(x, 8)));
  const auto m = got[0].to_vector<float>();
  for (int64_t n = 0; n < 37; ++n) {
    float ones = 0;
    for (int64_t j = 0; j < 64; ++j) ones += m[size_t(n * 64 + j)];
    EXPECT_EQ(ones, 8.f) << "row " << n;
  }
}

TEST_P(TopkMaskCuda, BadKFailsClearly) {
  const Tensor x = test::to_gpu(test::random_float({2, 5}, 1));
  EXPECT_THROW(ops::topk_mask(x, 0), Error);
  EXPECT_THROW(ops::topk_mask(x, 6), Error);
  Tensor mask = Tensor::empty({2, 5}, DType::F32, Device::cuda());
  EXPECT_THROW(
      MT_GPU(topk_mask)(2, 5, 6, x.data<float>(), mask.data<float>(), gpu::kTopkMaskDefault),
      Error);
}

MT_GPU_TEST_SUITE(TopkMaskCuda);

}  // namespace
}  // namespace medtex
