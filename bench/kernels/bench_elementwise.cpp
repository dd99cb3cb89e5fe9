// Elementwise CPU twins: relu forward and backward, add of two equal shapes
// (the student's stage-1 activation, and the teacher's residual add), the
// MED-TEX masking x~ = x * Z as a broadcast multiply ([N, 1, H, W] mask times
// [N, 3, H, W] image) with the reduction its mask gradient needs, and the
// nearest upsample x8 that spreads the explainer's 8x8 patch mask over the
// 64x64 pixels. Batch 32 throughout.
// Memory-bound, so GB/s: every input read once plus every output written once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/relu/relu.h"
#include "kernels/upsample_nearest/upsample_nearest.h"

namespace {

using medtex::bench::random_vec;
using medtex::bench::set_bytes_rate;
using medtex::bench::shape_label;

struct Shape {
  int64_t N, C, H, W;
  int64_t numel() const { return N * C * H * W; }
};
const Shape kActivations[] = {
    {32, 16, 64, 64},  // 0: cnn-small stage 1 (8 MiB)
    {32, 32, 16, 16},  // 1: resnet18 (width 0.5) stage 1 residual add (1 MiB)
};

const Shape& activation(benchmark::State& state) {
  const Shape& s = kActivations[state.range(0)];
  state.SetLabel(shape_label({s.N, s.C, s.H, s.W}));
  return s;
}

void BM_ReluForward(benchmark::State& state) {
  const int64_t n = activation(state).numel();
  const auto x = random_vec(n, 1);
  std::vector<float> y(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::relu_forward<float>(n, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 2.0 * double(n) * sizeof(float));
}

void BM_ReluBackward(benchmark::State& state) {
  const int64_t n = activation(state).numel();
  const auto x = random_vec(n, 1), dy = random_vec(n, 2);
  std::vector<float> y(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
  medtex::cpu::relu_forward<float>(n, x.data(), y.data());  // half the gradients pass
  for (auto _ : state) {
    medtex::cpu::relu_backward<float>(n, y.data(), dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 3.0 * double(n) * sizeof(float));
}

void BM_AddSameShape(benchmark::State& state) {
  const int64_t n = activation(state).numel();
  const auto a = random_vec(n, 1), b = random_vec(n, 2);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::binary_same<float>(medtex::cpu::BinaryOp::kAdd, n, a.data(), b.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 3.0 * double(n) * sizeof(float));
}

// The masked image: mask [32, 1, 64, 64] (broadcast over the colour
// channels) times image [32, 3, 64, 64].
constexpr int64_t kN = 32, kColours = 3, kPixels = 64;
const int64_t kMaskShape[4] = {kN, 1, kPixels, kPixels};
const int64_t kImageShape[4] = {kN, kColours, kPixels, kPixels};
constexpr int64_t kMaskNumel = kN * kPixels * kPixels, kImageNumel = kMaskNumel * kColours;

void BM_MulMaskImage(benchmark::State& state) {
  state.SetLabel(shape_label({kN, 1, kPixels, kPixels}) + " * " +
                 shape_label({kN, kColours, kPixels, kPixels}));
  int64_t out_shape[4];
  medtex::cpu::BroadcastPlan plan;
  if (medtex::cpu::plan_broadcast(4, kMaskShape, 4, kImageShape, out_shape, &plan) !=
      medtex::cpu::BroadcastStatus::kOk) {
    state.SkipWithError("plan_broadcast refused the mask and image shapes");
    return;
  }
  const auto mask = random_vec(kMaskNumel, 1, 0.0f, 1.0f), image = random_vec(kImageNumel, 2);
  std::vector<float> out(static_cast<size_t>(kImageNumel));
  for (auto _ : state) {
    medtex::cpu::binary_broadcast<float>(medtex::cpu::BinaryOp::kMul, plan, mask.data(),
                                         image.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(kMaskNumel + 2 * kImageNumel) * sizeof(float));
}

// The mask's gradient: (dy * image) [32, 3, 64, 64] summed over the colour
// channel back to [32, 1, 64, 64].
void BM_SumToMaskShape(benchmark::State& state) {
  state.SetLabel(shape_label({kN, kColours, kPixels, kPixels}) + " -> " +
                 shape_label({kN, 1, kPixels, kPixels}));
  const auto x = random_vec(kImageNumel, 1);
  std::vector<float> y(static_cast<size_t>(kMaskNumel));
  for (auto _ : state) {
    medtex::cpu::sum_to_shape<float>(4, kImageShape, 4, kMaskShape, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(kImageNumel + kMaskNumel) * sizeof(float));
}

// Nearest upsample x8: the patch mask [32, 1, 8, 8] to [32, 1, 64, 64].
constexpr int kFactor = 8;
constexpr int64_t kGrid = kPixels / kFactor;

void BM_UpsampleNearestForward(benchmark::State& state) {
  state.SetLabel(shape_label({kN, 1, kGrid, kGrid}) + " x" + std::to_string(kFactor));
  const auto x = random_vec(kN * kGrid * kGrid, 1);
  std::vector<float> y(static_cast<size_t>(kMaskNumel));
  for (auto _ : state) {
    medtex::cpu::upsample_nearest_forward<float>(kN, kGrid, kGrid, kFactor, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(kN * kGrid * kGrid + kMaskNumel) * sizeof(float));
}

void BM_UpsampleNearestBackward(benchmark::State& state) {
  state.SetLabel(shape_label({kN, 1, kGrid, kGrid}) + " x" + std::to_string(kFactor));
  const auto dy = random_vec(kMaskNumel, 1);
  std::vector<float> dx(size_t(kN * kGrid * kGrid));
  for (auto _ : state) {
    medtex::cpu::upsample_nearest_backward<float>(kN, kGrid, kGrid, kFactor, dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, double(kN * kGrid * kGrid + kMaskNumel) * sizeof(float));
}

BENCHMARK(BM_ReluForward)->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReluBackward)->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AddSameShape)->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MulMaskImage)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SumToMaskShape)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpsampleNearestForward)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpsampleNearestBackward)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
