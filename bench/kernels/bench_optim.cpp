// Optimizer steps over one parameter tensor of 1M floats (about the teacher's
// widest layers; the student's largest conv weight is 73,728): SGD with
// momentum and weight decay, Adam and AdamW.
// Memory-bound, so GB/s: SGD reads p, g, buf and writes p, buf (5 tensors);
// Adam reads p, g, m, v and writes p, m, v (7 tensors).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/adam/adam.h"
#include "kernels/sgd/sgd.h"

namespace {

using medtex::bench::random_vec;

void BM_SgdStepMomentum(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto p = random_vec(n, 1);
  const auto g = random_vec(n, 2, -1e-2f, 1e-2f);
  auto buf = random_vec(n, 3, -1e-2f, 1e-2f);
  medtex::cpu::SgdParams params;
  params.lr = 0.01;
  params.momentum = 0.9;
  params.weight_decay = 5e-4;
  for (auto _ : state) {
    medtex::cpu::sgd_step<float>(n, p.data(), g.data(), buf.data(), params, false);
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 5.0 * double(n) * sizeof(float));
}

void run_adam(benchmark::State& state, bool decoupled) {
  const int64_t n = state.range(0);
  auto p = random_vec(n, 1);
  const auto g = random_vec(n, 2, -1e-2f, 1e-2f);
  auto m = random_vec(n, 3, -1e-3f, 1e-3f), v = random_vec(n, 4, 0.0f, 1e-4f);
  medtex::cpu::AdamParams params;
  params.weight_decay = decoupled ? 1e-2 : 0.0;
  params.decoupled = decoupled;
  params.step = 10;  // past the first step, so the bias corrections are not trivial
  for (auto _ : state) {
    medtex::cpu::adam_step<float>(n, p.data(), g.data(), m.data(), v.data(), params);
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 7.0 * double(n) * sizeof(float));
}

void BM_AdamStep(benchmark::State& state) {
  run_adam(state, false);
}
void BM_AdamWStep(benchmark::State& state) {
  run_adam(state, true);
}

BENCHMARK(BM_SgdStepMomentum)->Arg(1 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AdamStep)->Arg(1 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AdamWStep)->Arg(1 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
