// batchnorm2d CPU twin: training forward (statistics + normalise + running
// update), training backward, evaluation forward, on the student's widest and
// narrowest activations (cnn-small at 64x64 input, batch 32: stage 1 output
// [32, 16, 64, 64], stage 4 output [32, 128, 8, 8]).
// Memory-bound, so GB/s: forward reads x and writes y (2 tensors), backward
// reads x and dy and writes dx (3 tensors); the [C] vectors are negligible.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/batchnorm2d/batchnorm2d.h"

namespace {

using medtex::bench::random_vec;
using medtex::cpu::BatchNorm2dShape;

struct Shape {
  int64_t N, C, H, W;
};
const Shape kShapes[] = {
    {32, 16, 64, 64},  // 0: cnn-small stage 1
    {32, 128, 8, 8},   // 1: cnn-small stage 4
};

BatchNorm2dShape shape(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  state.SetLabel(medtex::bench::shape_label({s.N, s.C, s.H, s.W}));
  return {s.N, s.C, s.H * s.W};
}

double tensor_bytes(const BatchNorm2dShape& s) {
  return double(s.n * s.c * s.hw) * sizeof(float);
}

void BM_BatchNorm2dForwardTrain(benchmark::State& state) {
  const BatchNorm2dShape s = shape(state);
  const auto x = random_vec(s.n * s.c * s.hw, 1);
  const auto w = random_vec(s.c, 2, 0.5f, 1.5f), b = random_vec(s.c, 3);
  std::vector<float> y(x.size()), mean(size_t(s.c)), invstd(size_t(s.c));
  std::vector<float> rmean(size_t(s.c), 0.0f), rvar(size_t(s.c), 1.0f);
  for (auto _ : state) {
    medtex::cpu::batchnorm2d_forward_train<float>(s, x.data(), w.data(), b.data(), 0.1, 1e-5,
                                                  y.data(), mean.data(), invstd.data(),
                                                  rmean.data(), rvar.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 2 * tensor_bytes(s));
}

void BM_BatchNorm2dBackwardTrain(benchmark::State& state) {
  const BatchNorm2dShape s = shape(state);
  const auto x = random_vec(s.n * s.c * s.hw, 1), dy = random_vec(s.n * s.c * s.hw, 4);
  const auto w = random_vec(s.c, 2, 0.5f, 1.5f), mean = random_vec(s.c, 5, -0.1f, 0.1f);
  const auto invstd = random_vec(s.c, 6, 2.0f, 4.0f);  // var of U(-0.5, 0.5) is 1/12
  std::vector<float> dx(x.size()), dw(size_t(s.c), 0.0f), db(size_t(s.c), 0.0f);
  for (auto _ : state) {
    medtex::cpu::batchnorm2d_backward<float>(s, true, x.data(), dy.data(), mean.data(),
                                             invstd.data(), w.data(), dx.data(), dw.data(),
                                             db.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 3 * tensor_bytes(s));
}

void BM_BatchNorm2dForwardEval(benchmark::State& state) {
  const BatchNorm2dShape s = shape(state);
  const auto x = random_vec(s.n * s.c * s.hw, 1);
  const auto w = random_vec(s.c, 2, 0.5f, 1.5f), b = random_vec(s.c, 3);
  const auto rmean = random_vec(s.c, 5, -0.1f, 0.1f), rvar = random_vec(s.c, 6, 0.05f, 0.1f);
  std::vector<float> y(x.size()), invstd(size_t(s.c));
  for (auto _ : state) {
    medtex::cpu::batchnorm2d_forward_eval<float>(s, x.data(), w.data(), b.data(), rmean.data(),
                                                 rvar.data(), 1e-5, y.data(), invstd.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  medtex::bench::set_bytes_rate(state, 2 * tensor_bytes(s));
}

BENCHMARK(BM_BatchNorm2dForwardTrain)
    ->DenseRange(0, 1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm2dBackwardTrain)
    ->DenseRange(0, 1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm2dForwardEval)
    ->DenseRange(0, 1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
