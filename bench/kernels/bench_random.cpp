// Philox fills: uniform, normal (Box-Muller) and Gumbel noise (portable log,
// twice per element). Sizes: the relaxed top-k's noise for batch 32, k = 8
// samples over 64 patches ([32, 8, 64]); a batch of 64x64 RGB images
// ([32, 3, 64, 64], e.g. augmentation noise); and 1M elements (weight init).
// Compute-bound (ten Philox rounds per four words, then the transform), so the
// primary rate is elements/s; GB/s counts the float32 output written.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/common/philox.h"
#include "kernels/gumbel/gumbel.h"
#include "kernels/random/random.h"

namespace {

using medtex::PhiloxDraw;

void set_counters(benchmark::State& state, int64_t n) {
  state.counters["Gelem/s"] = benchmark::Counter(double(n) * double(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  medtex::bench::set_bytes_rate(state, double(n) * sizeof(float));
}

const char* size_label(int64_t n) {
  switch (n) {
    case 32 * 8 * 64:
      return "[32, 8, 64]";
    case 32 * 3 * 64 * 64:
      return "[32, 3, 64, 64]";
    default:
      return "[1048576]";
  }
}

// Each call is a new draw (the offset advances), as the generator makes them.
void BM_UniformFill(benchmark::State& state) {
  const int64_t n = state.range(0);
  state.SetLabel(size_label(n));
  std::vector<float> out(static_cast<size_t>(n));
  PhiloxDraw draw{42, 1, 0};
  for (auto _ : state) {
    medtex::cpu::uniform_fill<float>(n, draw, -1.0f, 1.0f, out.data());
    ++draw.offset;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

void BM_NormalFill(benchmark::State& state) {
  const int64_t n = state.range(0);
  state.SetLabel(size_label(n));
  std::vector<float> out(static_cast<size_t>(n));
  PhiloxDraw draw{42, 1, 0};
  for (auto _ : state) {
    medtex::cpu::normal_fill<float>(n, draw, 0.0f, 1.0f, out.data());
    ++draw.offset;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

void BM_GumbelFill(benchmark::State& state) {
  const int64_t n = state.range(0);
  state.SetLabel(size_label(n));
  std::vector<float> out(static_cast<size_t>(n));
  PhiloxDraw draw{42, 3, 0};
  for (auto _ : state) {
    medtex::cpu::gumbel_fill<float>(n, draw, out.data());
    ++draw.offset;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(32 * 8 * 64)->Arg(32 * 3 * 64 * 64)->Arg(1 << 20);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_UniformFill)->Apply(sizes);
BENCHMARK(BM_NormalFill)->Apply(sizes);
BENCHMARK(BM_GumbelFill)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
