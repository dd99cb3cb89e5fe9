// Pooling CPU twins, forward and backward: maxpool2d (the student's 2x2/2
// after every stage and the teacher's 3x3/2 pad 1 after its stem), avgpool2d
// 2x2/2, and global_avgpool (the head of both nets). Shapes: cnn-small at 64x64
// input, batch 32, and resnet18 at width 0.5 (stem output [32, 32, 32, 32]).
// Memory-bound, so GB/s over the tensors each pass must touch: maxpool forward
// reads x and writes y and the int32 argmax; its backward reads argmax and dy
// and writes dx; avgpool and global_avgpool move x (or dx) and y (or dy).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/avgpool2d/avgpool2d.h"
#include "kernels/global_avgpool/global_avgpool.h"
#include "kernels/maxpool2d/maxpool2d.h"

namespace {

using medtex::bench::random_vec;
using medtex::bench::set_bytes_rate;
using medtex::bench::shape_label;

struct Window {
  int64_t N, C, HW;
  int kernel, stride, padding;
};
const Window kWindows[] = {
    {32, 16, 64, 2, 2, 0},  // 0: cnn-small stage 1, 2x2/2
    {32, 128, 8, 2, 2, 0},  // 1: cnn-small stage 4, 2x2/2
    {32, 32, 32, 3, 2, 1},  // 2: resnet18 (width 0.5) stem pool, 3x3/2 pad 1
};

template <class P>
P window_params(benchmark::State& state) {
  const Window& l = kWindows[state.range(0)];
  P p;
  p.planes = l.N * l.C;
  p.h = p.w = l.HW;
  p.kernel = l.kernel;
  p.stride = l.stride;
  p.padding = l.padding;
  p.oh = p.ow = (l.HW + 2 * l.padding - l.kernel) / l.stride + 1;
  state.SetLabel(shape_label({l.N, l.C, l.HW, l.HW}) + " k" + std::to_string(l.kernel) + " s" +
                 std::to_string(l.stride) + " p" + std::to_string(l.padding));
  return p;
}

void BM_MaxPool2dForward(benchmark::State& state) {
  const auto p = window_params<medtex::cpu::MaxPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const auto x = random_vec(in, 1);
  std::vector<float> y(static_cast<size_t>(out));
  std::vector<int32_t> arg(static_cast<size_t>(out));
  for (auto _ : state) {
    medtex::cpu::maxpool2d_forward<float>(p, x.data(), y.data(), arg.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(arg.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(in + out) * sizeof(float) + double(out) * sizeof(int32_t));
}

void BM_MaxPool2dBackward(benchmark::State& state) {
  const auto p = window_params<medtex::cpu::MaxPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const auto x = random_vec(in, 1), dy = random_vec(out, 2);
  std::vector<float> y(static_cast<size_t>(out)), dx(static_cast<size_t>(in));
  std::vector<int32_t> arg(static_cast<size_t>(out));
  medtex::cpu::maxpool2d_forward<float>(p, x.data(), y.data(), arg.data());  // a real argmax
  for (auto _ : state) {
    medtex::cpu::maxpool2d_backward<float>(p, arg.data(), dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(in + out) * sizeof(float) + double(out) * sizeof(int32_t));
}

void BM_AvgPool2dForward(benchmark::State& state) {
  const auto p = window_params<medtex::cpu::AvgPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const auto x = random_vec(in, 1);
  std::vector<float> y(static_cast<size_t>(out));
  for (auto _ : state) {
    medtex::cpu::avgpool2d_forward<float>(p, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(in + out) * sizeof(float));
}

void BM_AvgPool2dBackward(benchmark::State& state) {
  const auto p = window_params<medtex::cpu::AvgPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const auto dy = random_vec(out, 2);
  std::vector<float> dx(static_cast<size_t>(in));
  for (auto _ : state) {
    medtex::cpu::avgpool2d_backward<float>(p, dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(in + out) * sizeof(float));
}

// Global average pool: the nets' heads ([N, C, H, W] -> [N, C]) and, as a
// bandwidth case, the student's stage-1 activation.
struct Plane {
  int64_t N, C, HW;
};
const Plane kPlanes[] = {
    {32, 128, 4},  // 0: cnn-small head
    {32, 256, 2},  // 1: resnet18 (width 0.5) head
    {32, 16, 64},  // 2: a large input, for the rate
};

void BM_GlobalAvgPoolForward(benchmark::State& state) {
  const Plane& l = kPlanes[state.range(0)];
  state.SetLabel(shape_label({l.N, l.C, l.HW, l.HW}));
  const int64_t planes = l.N * l.C, hw = l.HW * l.HW;
  const auto x = random_vec(planes * hw, 1);
  std::vector<float> y(static_cast<size_t>(planes));
  for (auto _ : state) {
    medtex::cpu::global_avgpool_forward<float>(planes, hw, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(planes * hw + planes) * sizeof(float));
}

void BM_GlobalAvgPoolBackward(benchmark::State& state) {
  const Plane& l = kPlanes[state.range(0)];
  state.SetLabel(shape_label({l.N, l.C, l.HW, l.HW}));
  const int64_t planes = l.N * l.C, hw = l.HW * l.HW;
  const auto dy = random_vec(planes, 2);
  std::vector<float> dx(size_t(planes * hw));
  for (auto _ : state) {
    medtex::cpu::global_avgpool_backward<float>(planes, hw, dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(planes * hw + planes) * sizeof(float));
}

BENCHMARK(BM_MaxPool2dForward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxPool2dBackward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AvgPool2dForward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AvgPool2dBackward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GlobalAvgPoolForward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GlobalAvgPoolBackward)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
