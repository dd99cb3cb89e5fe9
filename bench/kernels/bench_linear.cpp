// linear CPU twin (y = x w^T + b on top of cpu::gemm): forward, backward-input
// and backward-weight on the heads of the nets (batch 32, 5 DR grades) and on
// an ImageNet-sized head at batch 256 for the rate.
// GFLOP/s counts 2 * n * in * out per pass (the bias add and db are O(n out)).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/linear/linear.h"

namespace {

using medtex::bench::random_vec;

struct Layer {
  int64_t n, in, out;
};
const Layer kLayers[] = {
    {32, 128, 5},      // 0: cnn-small head
    {32, 256, 5},      // 1: resnet18 (width 0.5) head
    {256, 512, 1000},  // 2: resnet18 (width 1.0) ImageNet head, batch 256
};

const Layer& layer(benchmark::State& state) {
  const Layer& l = kLayers[state.range(0)];
  state.SetLabel(medtex::bench::shape_label({l.n, l.in}) + " -> " + std::to_string(l.out));
  return l;
}

double flops(const Layer& l) {
  return 2.0 * double(l.n) * double(l.in) * double(l.out);
}

void BM_LinearForward(benchmark::State& state) {
  const Layer& l = layer(state);
  const auto x = random_vec(l.n * l.in, 1), w = random_vec(l.out * l.in, 2);
  const auto b = random_vec(l.out, 3);
  std::vector<float> y(size_t(l.n * l.out));
  for (auto _ : state) {
    medtex::cpu::linear_forward<float>(l.n, l.in, l.out, x.data(), w.data(), b.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_flop_rate(state, flops(l));
}

void BM_LinearBackwardInput(benchmark::State& state) {
  const Layer& l = layer(state);
  const auto dy = random_vec(l.n * l.out, 1), w = random_vec(l.out * l.in, 2);
  std::vector<float> dx(size_t(l.n * l.in));
  for (auto _ : state) {
    medtex::cpu::linear_backward_input<float>(l.n, l.in, l.out, dy.data(), w.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_flop_rate(state, flops(l));
}

// dw and db accumulate (+=); the drift over the iterations is harmless here.
void BM_LinearBackwardWeight(benchmark::State& state) {
  const Layer& l = layer(state);
  const auto x = random_vec(l.n * l.in, 1), dy = random_vec(l.n * l.out, 2);
  std::vector<float> dw(size_t(l.out * l.in), 0.0f), db(size_t(l.out), 0.0f);
  for (auto _ : state) {
    medtex::cpu::linear_backward_weight<float>(l.n, l.in, l.out, x.data(), dy.data(), dw.data(),
                                               db.data());
    benchmark::DoNotOptimize(dw.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_flop_rate(state, flops(l));
}

BENCHMARK(BM_LinearForward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LinearBackwardInput)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LinearBackwardWeight)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
