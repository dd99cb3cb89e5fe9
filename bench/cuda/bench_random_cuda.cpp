// Random fills on the GPU, every version: the Gumbel noise of the relaxed
// top-k (k x batch x patches = 8 x 32 x 64 per training step), uniform and
// normal fills as weight init uses them (resnet18 at width 0.5: its largest
// conv weight, 256 x 256 x 3 x 3) and one large fill of 2^24 for the peak
// rate; each group ends with a tiny case (index 3, "tiny" in its label) so that
// MEDTEX_BENCH_EMULATED=1 checks every entry quickly: --benchmark_filter='/3/'.
// Compute-bound (Philox rounds, logarithms): M elements/s is the figure to
// read; GB/s counts the 4-byte store of each element.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/gumbel/gumbel_cuda.h"
#include "kernels/random/random_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::PhiloxDraw;
using medtex::Tensor;

struct Size {
  int64_t n;
  const char* what;
};
const Size kSizes[] = {
    {8 * 32 * 64, "gumbel noise [8, 32, 64]"},        // 0
    {256 * 256 * 9, "conv weight [256, 256, 3, 3]"},  // 1
    {int64_t{1} << 24, "2^24"},                       // 2
    {37, "tiny"},                                     // 3
};

int64_t setup(benchmark::State& state) {
  const Size& s = kSizes[state.range(0)];
  state.SetLabel(std::string(s.what) + " v" + std::to_string(state.range(1)));
  return s.n;
}

void set_rates(benchmark::State& state, int64_t n) {
  state.counters["Melem/s"] = benchmark::Counter(double(n) * double(state.iterations()) * 1e-6,
                                                 benchmark::Counter::kIsRate);
  medtex::bench::set_bytes_rate(state, double(n) * sizeof(float));
}

void BM_GumbelFillCuda(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const int64_t n = setup(state);
  const auto v = medtex::gpu::GumbelVersion(state.range(1));
  Tensor out = Tensor::empty({n}, DType::F32, Device::cuda());
  uint32_t offset = 0;
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(gumbel_fill)(n, PhiloxDraw{7, 1, offset++}, out.data<float>(), v);
  });
  set_rates(state, n);
}

void BM_UniformFillCuda(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const int64_t n = setup(state);
  const auto v = medtex::gpu::RandomVersion(state.range(1));
  Tensor out = Tensor::empty({n}, DType::F32, Device::cuda());
  uint32_t offset = 0;
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(uniform_fill)(n, PhiloxDraw{7, 2, offset++}, -0.05f, 0.05f, out.data<float>(), v);
  });
  set_rates(state, n);
}

void BM_NormalFillCuda(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const int64_t n = setup(state);
  const auto v = medtex::gpu::RandomVersion(state.range(1));
  Tensor out = Tensor::empty({n}, DType::F32, Device::cuda());
  uint32_t offset = 0;
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(normal_fill)(n, PhiloxDraw{7, 3, offset++}, 0.f, 0.03f, out.data<float>(), v);
  });
  set_rates(state, n);
}

// Every size x version 1, 2.
void all_args(benchmark::internal::Benchmark* b) {
  for (int64_t size = 0; size < 4; ++size)
    for (int64_t v = 1; v <= 2; ++v) b->Args({size, v});
}

BENCHMARK(BM_GumbelFillCuda)->Apply(all_args)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UniformFillCuda)->Apply(all_args)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NormalFillCuda)->Apply(all_args)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
