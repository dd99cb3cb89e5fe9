// conv2d CPU twin: forward, backward-input and backward-weight on the
// student's layer shapes (cnn-small at 64x64 input, batch 32: 3x3 convs with
// padding 1, each stage at half the resolution of the one before), plus the
// teacher's 7x7 stride-2 stem. GFLOP/s counts 2 * N*K*OH*OW*C*R*S per pass
// (the multiply-adds of the convolution itself, not im2col's copies).
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/conv2d/conv2d.h"

namespace {

using medtex::cpu::Conv2dParams;

struct Layer {
  int64_t C, HW, K, R, stride, padding;
};

// The layers, indexed by the benchmark argument.
const Layer kLayers[] = {
    {3, 64, 16, 3, 1, 1},   // 0: cnn-small stage 1, 3 -> 16 at 64x64
    {16, 32, 32, 3, 1, 1},  // 1: stage 2, 16 -> 32 at 32x32
    {32, 16, 64, 3, 1, 1},  // 2: stage 3, 32 -> 64 at 16x16
    {64, 8, 128, 3, 1, 1},  // 3: stage 4, 64 -> 128 at 8x8
    {3, 64, 32, 7, 2, 3},   // 4: resnet18 (width 0.5) stem, 7x7 stride 2 at 64x64
};
constexpr int64_t kBatch = 32;

Conv2dParams params(const benchmark::State& state) {
  const Layer& l = kLayers[state.range(0)];
  return Conv2dParams::make(kBatch, l.C, l.HW, l.HW, l.K, l.R, l.R, l.stride, l.padding);
}

std::vector<float> random_vec(int64_t n, unsigned seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed >> 8) / float(1 << 24) - 0.5f;
  }
  return v;
}

void set_counters(benchmark::State& state, const Conv2dParams& p) {
  const double flops = 2.0 * double(p.N * p.K * p.OH * p.OW) * double(p.C * p.R * p.S);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["threads"] = medtex::num_threads();
  state.SetLabel(std::to_string(p.C) + "->" + std::to_string(p.K) + " @" + std::to_string(p.H) +
                 "x" + std::to_string(p.W) + " k" + std::to_string(p.R) + " s" +
                 std::to_string(p.stride));
}

void BM_Conv2dForward(benchmark::State& state) {
  const Conv2dParams p = params(state);
  const auto x = random_vec(p.N * p.C * p.H * p.W, 1), w = random_vec(p.K * p.C * p.R * p.S, 2);
  const auto b = random_vec(p.K, 3);
  std::vector<float> y(size_t(p.N * p.K * p.OH * p.OW));
  for (auto _ : state) {
    medtex::cpu::conv2d_forward<float>(p, x.data(), w.data(), b.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

void BM_Conv2dBackwardInput(benchmark::State& state) {
  const Conv2dParams p = params(state);
  const auto dy = random_vec(p.N * p.K * p.OH * p.OW, 1), w = random_vec(p.K * p.C * p.R * p.S, 2);
  std::vector<float> dx(size_t(p.N * p.C * p.H * p.W));
  for (auto _ : state) {
    medtex::cpu::conv2d_backward_input<float>(p, dy.data(), w.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

void BM_Conv2dBackwardWeight(benchmark::State& state) {
  const Conv2dParams p = params(state);
  const auto x = random_vec(p.N * p.C * p.H * p.W, 1), dy = random_vec(p.N * p.K * p.OH * p.OW, 2);
  std::vector<float> dw(size_t(p.K * p.C * p.R * p.S)), db(size_t(p.K));
  for (auto _ : state) {
    medtex::cpu::conv2d_backward_weight<float>(p, x.data(), dy.data(), dw.data(), db.data());
    benchmark::DoNotOptimize(dw.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

BENCHMARK(BM_Conv2dForward)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv2dBackwardInput)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv2dBackwardWeight)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
