// Elementwise CUDA kernels, every version: same-shape add, the nets'
// broadcasts ([N, 1, H, W] * [N, 3, H, W] in the explainer's masking, a
// per-channel [C, 1, 1] + [N, C, H, W]), mul_scalar, expand (the backward of a
// spatial mean) and sum_to_shape (the backward of the per-channel broadcast),
// on student/teacher activation sizes.
//
// GB/s counts every input read once and every output written once (a
// stretched input is counted at its own size): compare with the device's
// memory bandwidth (H100 SXM: 3.35 TB/s, H200: 4.8 TB/s).
// size 0 of each benchmark is a tiny shape for a smoke run under the
// emulator: MEDTEX_BENCH_EMULATED=1 ./bench_elementwise_cuda --benchmark_filter=size:0
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

#include "bench/cuda/gpu_bench.h"
#include "engine/shape.h"
#include "engine/tensor.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_cuda.h"
#include "kernels/reduce/reduce_cuda.h"

namespace {

using namespace medtex;
using bench::gpu_random;
using gpu::ElementwiseVersion;

Tensor gpu_empty(const Shape& s) { return Tensor::empty(s, DType::F32, Device::cuda()); }

// Concatenates with a stream (GCC 12 -O3 warns falsely about chains of string +).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

// Activations: tiny; a student's [32, 64, 32, 32]; a teacher's [32, 256, 16, 16]; odd
// sizes [31, 3, 97, 97].
const std::vector<Shape> kActivations = {
    {2, 3, 5, 7}, {32, 64, 32, 32}, {32, 256, 16, 16}, {31, 3, 97, 97}};

void BM_AddSame(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = ElementwiseVersion(state.range(0));
  const Shape s = kActivations[size_t(state.range(1))];
  const Tensor a = gpu_random(s, 1), b = gpu_random(s, 2);
  Tensor y = gpu_empty(s);
  const int64_t n = numel(s);
  bench::time_gpu(state, [&] {
    MT_GPU(binary_same)(cpu::BinaryOp::kAdd, n, a.data<float>(), b.data<float>(), y.data<float>(),
                        v);
  });
  bench::set_bytes_rate(state, 3.0 * double(n) * sizeof(float));
  state.SetLabel(cat(s));
}
BENCHMARK(BM_AddSame)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}})
    ->UseManualTime();

void BM_MulScalar(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = ElementwiseVersion(state.range(0));
  const Shape s = kActivations[size_t(state.range(1))];
  const Tensor x = gpu_random(s, 1);
  Tensor y = gpu_empty(s);
  const int64_t n = numel(s);
  bench::time_gpu(state,
                  [&] { MT_GPU(mul_scalar)(n, x.data<float>(), 0.5f, y.data<float>(), v); });
  bench::set_bytes_rate(state, 2.0 * double(n) * sizeof(float));
  state.SetLabel(cat(s));
}
BENCHMARK(BM_MulScalar)->ArgNames({"v", "size"})->ArgsProduct({{1, 2}, {0, 1, 2}})->UseManualTime();

// a broadcast against b: a's shape, b's shape.
struct Pair {
  Shape a, b;
};
const std::vector<Pair> kBroadcasts = {
    {{2, 1, 5, 7}, {2, 3, 5, 7}},
    {{32, 1, 128, 128}, {32, 3, 128, 128}},  // mask [N, 1, H, W] * image [N, 3, H, W]
    {{64, 1, 1}, {32, 64, 32, 32}},          // per-channel [C, 1, 1] + activations
    {{1, 256, 1, 1}, {32, 256, 16, 16}},     // per-channel, keepdim-style
    {{31, 1, 97, 97}, {31, 3, 97, 97}},      // rows of 9409: no float4
};

void BM_Broadcast(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = ElementwiseVersion(state.range(0));
  const Pair& p = kBroadcasts[size_t(state.range(1))];
  cpu::BroadcastPlan plan;
  Shape out(p.b.size(), 0);
  if (cpu::plan_broadcast(int(p.a.size()), p.a.data(), int(p.b.size()), p.b.data(), out.data(),
                          &plan) != cpu::BroadcastStatus::kOk) {
    state.SkipWithError("shapes do not broadcast");
    return;
  }
  const Tensor a = gpu_random(p.a, 1), b = gpu_random(p.b, 2);
  Tensor y = gpu_empty(out);
  bench::time_gpu(state, [&] {
    MT_GPU(binary_broadcast)(cpu::BinaryOp::kMul, plan, a.data<float>(), b.data<float>(),
                             y.data<float>(), v);
  });
  bench::set_bytes_rate(state, double(numel(p.a) + numel(p.b) + numel(out)) * sizeof(float));
  state.SetLabel(cat(p.a, " * ", p.b));
}
BENCHMARK(BM_Broadcast)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3, 4}})
    ->UseManualTime();

// The backward of a spatial mean: dy [N, C, 1, 1] stretched over H, W and
// divided by H * W; and of a sum (a copy).
void BM_Expand(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = ElementwiseVersion(state.range(0));
  const bool mean = state.range(2) != 0;
  Shape s = kActivations[size_t(state.range(1))];
  Shape kept = {s[0], s[1], 1, 1};
  cpu::BroadcastPlan plan;
  Shape full(s.size(), 0);
  if (cpu::plan_broadcast(4, kept.data(), 4, s.data(), full.data(), &plan) !=
      cpu::BroadcastStatus::kOk) {
    state.SkipWithError("no plan");
    return;
  }
  const Tensor dy = gpu_random(kept, 1);
  Tensor dx = gpu_empty(s);
  const float divisor = mean ? float(s[2] * s[3]) : 1.f;
  bench::time_gpu(state,
                  [&] { MT_GPU(expand)(plan, dy.data<float>(), divisor, dx.data<float>(), v); });
  bench::set_bytes_rate(state, double(numel(kept) + numel(s)) * sizeof(float));
  state.SetLabel(cat(kept, " -> ", s, mean ? " / HW" : ""));
}
BENCHMARK(BM_Expand)
    ->ArgNames({"v", "size", "mean"})
    ->ArgsProduct({{1, 2}, {0, 1, 2}, {0, 1}})
    ->UseManualTime();

// The gradient of a per-channel broadcast input: [N, C, H, W] summed to
// [C, 1, 1] (innermost dim reduced: v2's block tree), and of a
// [N, 1, H, W] mask: summed over C (innermost kept: v2's chunked rows).
void BM_SumToShape(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::ReduceVersion(state.range(0));
  const Shape s = kActivations[size_t(state.range(1))];
  const bool per_channel = state.range(2) != 0;
  const Shape target = per_channel ? Shape{s[1], 1, 1} : Shape{s[0], 1, s[2], s[3]};
  const Tensor x = gpu_random(s, 1);
  Tensor y = gpu_empty(target);
  bench::time_gpu(state, [&] {
    MT_GPU(sum_to_shape)(int(s.size()), s.data(), int(target.size()), target.data(),
                         x.data<float>(), y.data<float>(), v);
  });
  bench::set_bytes_rate(state, double(numel(s) + numel(target)) * sizeof(float));
  state.SetLabel(cat(s, " -> ", target));
}
BENCHMARK(BM_SumToShape)
    ->ArgNames({"v", "size", "per_channel"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}, {0, 1}})
    ->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
