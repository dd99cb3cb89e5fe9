// Reductions: reduce_sum (sum and mean) over all dims, over the batch and
// pixels of each channel, and along rows; max/argmax along one dim, forward
// and backward. Shapes from the student at 64x64 input, batch 32, and from the
// losses at batch 256.
// Memory-bound, so GB/s: the input read once plus the output written once
// (max forward writes the float max and the int64 index).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/max/max.h"
#include "kernels/reduce/reduce.h"

namespace {

using medtex::bench::random_vec;
using medtex::bench::set_bytes_rate;
using medtex::bench::shape_label;

struct SumCase {
  int64_t shape[4];
  uint32_t mask;  // bit d: dim d is summed over
  const char* what;
};
const SumCase kSums[] = {
    {{32, 16, 64, 64}, 0b1111, "all"},            // 0: a loss-sized scalar of a big tensor
    {{32, 16, 64, 64}, 0b1101, "dims 0,2,3"},     // 1: per-channel sums (bias gradient)
    {{32, 16, 64, 64}, 0b0001, "dim 0"},          // 2: a batch-broadcast gradient
    {{1, 1, 256, 1000}, 0b1000, "dim 3 (rows)"},  // 3: row sums of batch-256 logits
};

void BM_ReduceSum(benchmark::State& state) {
  const SumCase& c = kSums[state.range(0)];
  int64_t n = 1, out = 1;
  for (int d = 0; d < 4; ++d) {
    n *= c.shape[d];
    if (!(c.mask >> d & 1)) out *= c.shape[d];
  }
  state.SetLabel(shape_label({c.shape[0], c.shape[1], c.shape[2], c.shape[3]}) + " over " + c.what);
  const auto x = random_vec(n, 1);
  std::vector<float> y(static_cast<size_t>(out));
  for (auto _ : state) {
    medtex::cpu::reduce_sum<float>(4, c.shape, c.mask, x.data(), y.data(), 1.0);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(n + out) * sizeof(float));
}

// x viewed as [outer, D, inner], the max taken over D.
struct MaxCase {
  int64_t outer, D, inner;
  const char* what;
};
const MaxCase kMaxes[] = {
    {256, 1000, 1, "[256, 1000] over dim 1"},          // 0: argmax of batch-256 logits
    {32, 8, 64, "[32, 8, 64] over dim 1"},             // 1: relaxed top-k, max of k = 8 samples
    {32, 16, 64 * 64, "[32, 16, 64, 64] over dim 1"},  // 2: over the channels of an activation
};

void BM_MaxForward(benchmark::State& state) {
  const MaxCase& c = kMaxes[state.range(0)];
  state.SetLabel(c.what);
  const auto x = random_vec(c.outer * c.D * c.inner, 1);
  std::vector<float> y(size_t(c.outer * c.inner));
  std::vector<int64_t> idx(y.size());
  for (auto _ : state) {
    medtex::cpu::max_forward<float>(c.outer, c.D, c.inner, x.data(), y.data(), idx.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(idx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(c.outer * c.D * c.inner) * sizeof(float) +
                            double(c.outer * c.inner) * (sizeof(float) + sizeof(int64_t)));
}

void BM_MaxBackward(benchmark::State& state) {
  const MaxCase& c = kMaxes[state.range(0)];
  state.SetLabel(c.what);
  const auto x = random_vec(c.outer * c.D * c.inner, 1), dy = random_vec(c.outer * c.inner, 2);
  std::vector<float> y(dy.size()), dx(x.size());
  std::vector<int64_t> idx(dy.size());
  medtex::cpu::max_forward<float>(c.outer, c.D, c.inner, x.data(), y.data(), idx.data());
  for (auto _ : state) {
    medtex::cpu::max_backward<float>(c.outer, c.D, c.inner, idx.data(), dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(c.outer * c.D * c.inner) * sizeof(float) +
                            double(c.outer * c.inner) * (sizeof(float) + sizeof(int64_t)));
}

BENCHMARK(BM_ReduceSum)->DenseRange(0, 3)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxForward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxBackward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
