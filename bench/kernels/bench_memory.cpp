// Whole-tensor memory ops: fill, float -> double conversion, and add_into (the
// out-of-place sum autograd uses to accumulate gradients). add_into is the
// STREAM "add" pattern, so its rate doubles as the machine's practical memory
// bandwidth for the other GB/s figures: on 2M floats (the student's stage-1
// activation, 8 MiB per tensor, cache-resident on large-L3 servers) and on
// 32M floats (128 MiB per tensor, 384 MiB per call: out of cache).
// GB/s: fill writes 4 bytes per element, convert moves 4 + 8, add_into 3 x 4.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/memory/memory.h"

namespace {

using medtex::bench::random_vec;

void BM_Fill(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::fill<float>(n, 0.0f, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, double(n) * sizeof(float));
}

void BM_ConvertFloatToDouble(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto in = random_vec(n, 1);
  std::vector<double> out(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::convert<double, float>(n, in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, double(n) * (sizeof(float) + sizeof(double)));
}

void BM_AddInto(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto a = random_vec(n, 1), b = random_vec(n, 2);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::add_into<float>(n, a.data(), b.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 3.0 * double(n) * sizeof(float));
}

void BM_AddIntoSingleThread(benchmark::State& state) {
  medtex::set_num_threads(1);
  BM_AddInto(state);
  medtex::set_num_threads(0);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(int64_t{32} * 16 * 64 * 64)->Arg(int64_t{1} << 25);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Fill)->Apply(sizes);
BENCHMARK(BM_ConvertFloatToDouble)->Apply(sizes);
BENCHMARK(BM_AddInto)->Apply(sizes);
BENCHMARK(BM_AddIntoSingleThread)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
