// Hard top-k mask on the GPU, both versions. Shapes as the CPU benchmark
// (bench/kernels/bench_topk_mask.cpp): the explainer's 64 patch logits per
// image at batch 32 with k = 8, a batch-256 row of 1000 scores with k = 5, and
// the same with k = 500 (the walk from the worst end); then a tiny case
// (index 3, "tiny") for MEDTEX_BENCH_EMULATED=1: --benchmark_filter='/3/'.
// GB/s: the scores read once and the 0/1 mask written once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/topk_mask/topk_mask_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::Tensor;

struct Case {
  int64_t N, D, k;
};
const Case kCases[] = {{32, 64, 8}, {256, 1000, 5}, {256, 1000, 500}, {3, 40, 6}};

void BM_TopkMaskCuda(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const Case& c = kCases[state.range(0)];
  const auto v = medtex::gpu::TopkMaskVersion(state.range(1));
  state.SetLabel(medtex::bench::shape_label({c.N, c.D}) + " k=" + std::to_string(c.k) + " v" +
                 std::to_string(state.range(1)) + (state.range(0) == 3 ? " tiny" : ""));
  const Tensor x = medtex::bench::gpu_random({c.N, c.D}, 1);
  Tensor mask = Tensor::empty({c.N, c.D}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(topk_mask)(c.N, c.D, c.k, x.data<float>(), mask.data<float>(), v);
  });
  medtex::bench::set_bytes_rate(state, 2.0 * double(c.N * c.D) * sizeof(float));
}

BENCHMARK(BM_TopkMaskCuda)
    ->ArgsProduct({{0, 1, 2, 3}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
