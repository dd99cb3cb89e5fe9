// GEMM throughput: square sizes and the shapes conv2d hands to gemm.
// GFLOP/s = 2 M N K per call; the counter is a rate over wall time.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm/gemm.h"

namespace {

void fill(std::vector<float>& v, unsigned seed) {
  // A small LCG: the values only need to be ordinary finite floats.
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed >> 8) / float(1 << 24) - 0.5f;
  }
}

void run_gemm(benchmark::State& state, bool trans_a, bool trans_b, int64_t M, int64_t N,
              int64_t K, medtex::cpu::Isa isa = medtex::cpu::active_isa()) {
  std::vector<float> a(size_t(M * K)), b(size_t(K * N)), c(size_t(M * N));
  fill(a, 1);
  fill(b, 2);
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  for (auto _ : state) {
    medtex::cpu::gemm_isa<float>(isa, trans_a, trans_b, M, N, K, 1.0f, a.data(), lda, b.data(),
                                 ldb, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * double(M) * double(N) * double(K) * double(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
  state.counters["threads"] = medtex::num_threads();
  state.SetLabel(medtex::cpu::isa_name(std::min(isa, medtex::cpu::supported_isa())));
}

void BM_GemmSquare(benchmark::State& state) {
  const int64_t n = state.range(0);
  run_gemm(state, false, false, n, n, n);
}
BENCHMARK(BM_GemmSquare)->Arg(128)->Arg(256)->Arg(512)->UseRealTime();

void BM_GemmSquareSingleThread(benchmark::State& state) {
  medtex::set_num_threads(1);
  const int64_t n = state.range(0);
  run_gemm(state, false, false, n, n, n);
  medtex::set_num_threads(0);
}
BENCHMARK(BM_GemmSquareSingleThread)->Arg(512)->UseRealTime();

// One core, 512^3, per micro-kernel: the wide kernels against the baseline
// one in the same run (arg: 0 baseline, 1 AVX2, 2 AVX-512; capped at what the
// CPU has, the label says which ran).
void BM_GemmIsaSingleThread(benchmark::State& state) {
  medtex::set_num_threads(1);
  run_gemm(state, false, false, 512, 512, 512, medtex::cpu::Isa(state.range(0)));
  medtex::set_num_threads(0);
}
BENCHMARK(BM_GemmIsaSingleThread)->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

// The three GEMMs of a 3x3 conv 16 -> 32 channels on a 32x32 image:
// forward  y[K, P] = w[K, CRS] col[CRS, P]        M=32,  N=1024, K=144
// bwd-in   dcol[CRS, P] = w^T[CRS, K] dy[K, P]    M=144, N=1024, K=32  (A transposed)
// bwd-w    dw[K, CRS] += dy[K, P] col^T[P, CRS]   M=32,  N=144,  K=1024 (B transposed)
void BM_GemmConvForward(benchmark::State& state) {
  run_gemm(state, false, false, 32, 1024, 144);
}
void BM_GemmConvBackwardInput(benchmark::State& state) {
  run_gemm(state, true, false, 144, 1024, 32);
}
void BM_GemmConvBackwardWeight(benchmark::State& state) {
  run_gemm(state, false, true, 32, 144, 1024);
}
BENCHMARK(BM_GemmConvForward)->UseRealTime();
BENCHMARK(BM_GemmConvBackwardInput)->UseRealTime();
BENCHMARK(BM_GemmConvBackwardWeight)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
