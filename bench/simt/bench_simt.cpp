// What the SIMT emulator costs: the sample kernels run emulated against plain
// single-threaded loops doing the same arithmetic. The emulator serves tests,
// so the question is how much slower a kernel test is than a CPU-twin test.
//
//   bench_simt --benchmark_filter=Sgemm
//
// Emulated runs use one worker (one OS thread, like the loops) unless the name
// says /workers:2. The overhead ratio is emulated time / loop time.
// BM_StaticSharedDeclaration isolates what a SIMT_SHARED declaration costs
// each CUDA thread against plain __shared__.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/simt/samples/samples.h"
#include "kernels/simt/simt.h"

namespace {

using medtex::simt_samples::emulated_backend;

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

simt::Config bench_config(int workers) {
  simt::Config c;  // the default schedule: random
  c.workers = static_cast<unsigned>(workers);
  return c;
}

void set_gemm_rate(benchmark::State& state, int n) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_SgemmEmulated(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const simt::ScopedConfig scoped(bench_config(static_cast<int>(state.range(1))));
  const auto a = random_floats(size_t(n) * n, 1), b = random_floats(size_t(n) * n, 2);
  std::vector<float> c(size_t(n) * n);
  for (auto _ : state) {
    const simt::Error e = emulated_backend().sgemm(a.data(), b.data(), c.data(), n, n, n, nullptr);
    if (!e.ok()) state.SkipWithError(e.message().c_str());
    benchmark::DoNotOptimize(c.data());
  }
  set_gemm_rate(state, n);
}
BENCHMARK(BM_SgemmEmulated)
    ->ArgsProduct({{256}, {1, 2}})
    ->ArgNames({"n", "workers"})
    ->Unit(benchmark::kMillisecond);

// The textbook loop: one dot product per element of c.
void BM_SgemmLoopIjk(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto a = random_floats(size_t(n) * n, 1), b = random_floats(size_t(n) * n, 2);
  std::vector<float> c(size_t(n) * n);
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        float s = 0.0f;
        for (int k = 0; k < n; ++k) s += a[size_t(i) * n + k] * b[size_t(k) * n + j];
        c[size_t(i) * n + j] = s;
      }
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_gemm_rate(state, n);
}
BENCHMARK(BM_SgemmLoopIjk)->Arg(256)->Unit(benchmark::kMillisecond);

// The cache-friendly loop order (rows of b streamed, vectorised).
void BM_SgemmLoopIkj(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto a = random_floats(size_t(n) * n, 1), b = random_floats(size_t(n) * n, 2);
  std::vector<float> c(size_t(n) * n);
  for (auto _ : state) {
    std::fill(c.begin(), c.end(), 0.0f);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < n; ++k) {
        const float aik = a[size_t(i) * n + k];
        for (int j = 0; j < n; ++j) c[size_t(i) * n + j] += aik * b[size_t(k) * n + j];
      }
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_gemm_rate(state, n);
}
BENCHMARK(BM_SgemmLoopIkj)->Arg(256)->Unit(benchmark::kMillisecond);

void set_read_rate(benchmark::State& state, int n) {
  state.counters["GB/s"] =
      benchmark::Counter(n * sizeof(float) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ReduceEmulated(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const simt::ScopedConfig scoped(bench_config(static_cast<int>(state.range(1))));
  const auto x = random_floats(size_t(n), 3);
  float sum = 0.0f;
  for (auto _ : state) {
    sum = 0.0f;
    const simt::Error e = emulated_backend().reduce_sum(x.data(), n, &sum, nullptr);
    if (!e.ok()) state.SkipWithError(e.message().c_str());
    benchmark::DoNotOptimize(sum);
  }
  set_read_rate(state, n);
}
BENCHMARK(BM_ReduceEmulated)
    ->ArgsProduct({{1 << 22}, {1, 2}})
    ->ArgNames({"n", "workers"})
    ->Unit(benchmark::kMillisecond);

void BM_ReduceLoop(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto x = random_floats(size_t(n), 3);
  for (auto _ : state) {
    float sum = 0.0f;
    for (float v : x) sum += v;
    benchmark::DoNotOptimize(sum);
  }
  set_read_rate(state, n);
}
BENCHMARK(BM_ReduceLoop)->Arg(1 << 22)->Unit(benchmark::kMillisecond);

void BM_SoftmaxEmulated(benchmark::State& state) {
  const int rows = 512, cols = 1024;
  const simt::ScopedConfig scoped(bench_config(1));
  const auto x = random_floats(size_t(rows) * cols, 4);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    const simt::Error e = emulated_backend().softmax_rows(x.data(), y.data(), rows, cols, nullptr);
    if (!e.ok()) state.SkipWithError(e.message().c_str());
    benchmark::DoNotOptimize(y.data());
  }
  set_read_rate(state, rows * cols);
}
BENCHMARK(BM_SoftmaxEmulated)->Unit(benchmark::kMillisecond);

void BM_SoftmaxLoop(benchmark::State& state) {
  const int rows = 512, cols = 1024;
  const auto x = random_floats(size_t(rows) * cols, 4);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    for (int r = 0; r < rows; ++r) {
      const float* xr = &x[size_t(r) * cols];
      float* yr = &y[size_t(r) * cols];
      float mx = -INFINITY, s = 0.0f;
      for (int c = 0; c < cols; ++c) mx = std::fmax(mx, xr[c]);
      for (int c = 0; c < cols; ++c) s += std::exp(xr[c] - mx);
      const float inv = 1.0f / s;
      for (int c = 0; c < cols; ++c) yr[c] = std::exp(xr[c] - mx) * inv;
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_read_rate(state, rows * cols);
}
BENCHMARK(BM_SoftmaxLoop)->Unit(benchmark::kMillisecond);

}  // namespace

// What declaring static shared memory costs per CUDA thread: SIMT_SHARED
// (poisoned per block; each thread looks its array up) against plain
// __shared__ (a thread_local array), in a kernel that does almost nothing
// else and never synchronises (the fast path), so the lookup is all there is.
namespace bench_kernels {
inline namespace SIMT_NS {

constexpr int kStageThreads = 256;

__global__ void stage_through_simt_shared(const float* x, float* y) {
  SIMT_SHARED(float, staged, [kStageThreads]);
  const int i = blockIdx.x * kStageThreads + threadIdx.x;
  staged[threadIdx.x] = x[i];
  y[i] = 2.0f * staged[threadIdx.x];
}

__global__ void stage_through_plain_shared(const float* x, float* y) {
  __shared__ float staged[kStageThreads];
  const int i = blockIdx.x * kStageThreads + threadIdx.x;
  staged[threadIdx.x] = x[i];
  y[i] = 2.0f * staged[threadIdx.x];
}

}  // namespace SIMT_NS
}  // namespace bench_kernels

namespace {

void BM_StaticSharedDeclaration(benchmark::State& state) {
  const bool simt_shared = state.range(0) != 0;
  const int blocks = 1024, n = blocks * bench_kernels::kStageThreads;
  const simt::ScopedConfig scoped(bench_config(1));
  const auto x = random_floats(size_t(n), 5);
  std::vector<float> y(x.size());
  auto* kernel = simt_shared ? bench_kernels::stage_through_simt_shared
                             : bench_kernels::stage_through_plain_shared;
  for (auto _ : state) {
    const simt::Error e = simt::launch(kernel, dim3(blocks), dim3(bench_kernels::kStageThreads), 0,
                                       nullptr, x.data(), y.data());
    if (!e.ok()) state.SkipWithError(e.message().c_str());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["threads/s"] =
      benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_StaticSharedDeclaration)
    ->Arg(1)
    ->Arg(0)
    ->ArgName("simt_shared")
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
