// Hard top-k mask (evaluation-time patch selection): the explainer's 64 patch
// logits per image at batch 32 with k = 8, and a batch-256 row of 1000 scores
// with k = 5 for the rate. Forward only.
// GB/s: the scores read once and the 0/1 mask written once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/topk_mask/topk_mask.h"

namespace {

void BM_TopkMask(benchmark::State& state) {
  const int64_t N = state.range(0), D = state.range(1), k = state.range(2);
  state.SetLabel(medtex::bench::shape_label({N, D}) + " k=" + std::to_string(k));
  const auto x = medtex::bench::random_vec(N * D, 1);
  std::vector<float> mask(x.size());
  for (auto _ : state) {
    medtex::cpu::topk_mask<float>(N, D, k, x.data(), mask.data());
    benchmark::DoNotOptimize(mask.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 2.0 * double(N * D) * sizeof(float));
}

BENCHMARK(BM_TopkMask)
    ->Args({32, 64, 8})
    ->Args({256, 1000, 5})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
