// Reduction CUDA kernels, every version: reduce_sum over the dims the nets
// reduce (a spatial mean [N, C, H, W] -> [N, C], per-channel statistics over
// (N, H, W), a batch sum with the innermost dim kept, a global sum, rows of
// logits), and max / argmax over the classes of a logit batch and over the
// channels of an activation, forward and backward.
//
// GB/s counts the input read once and the output written once: compare with
// the device's memory bandwidth (H100 SXM: 3.35 TB/s, H200: 4.8 TB/s).
// size 0 of each benchmark is a tiny shape for a smoke run under the
// emulator: MEDTEX_BENCH_EMULATED=1 ./bench_reduce_cuda --benchmark_filter=size:0
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

#include "bench/cuda/gpu_bench.h"
#include "engine/shape.h"
#include "engine/tensor.h"
#include "kernels/max/max_cuda.h"
#include "kernels/reduce/reduce_cuda.h"

namespace {

using namespace medtex;
using bench::gpu_random;

Tensor gpu_empty(const Shape& s, DType t = DType::F32) {
  return Tensor::empty(s, t, Device::cuda());
}

// Concatenates with a stream (GCC 12 -O3 warns falsely about chains of string +).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}


struct ReduceCase {
  Shape shape;
  uint32_t mask;
  const char* what;
};
const std::vector<ReduceCase> kReduces = {
    {{2, 3, 5, 7}, 0b1100, "tiny spatial"},
    {{32, 64, 32, 32}, 0b1100, "spatial mean"},        // global average pooling
    {{32, 64, 32, 32}, 0b1101, "per-channel"},         // batchnorm-style statistics
    {{32, 64, 32, 32}, 0b0001, "batch sum"},           // innermost kept
    {{32, 64, 32, 32}, 0b1111, "all"},                 // a scalar loss
    {{256, 1000}, 0b10, "rows of logits"},
};

void BM_ReduceSum(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::ReduceVersion(state.range(0));
  const ReduceCase& c = kReduces[size_t(state.range(1))];
  Shape out;
  for (size_t d = 0; d < c.shape.size(); ++d) out.push_back((c.mask >> d) & 1u ? 1 : c.shape[d]);
  const Tensor x = gpu_random(c.shape, 1);
  Tensor y = gpu_empty(out);
  bench::time_gpu(state, [&] {
    MT_GPU(reduce_sum)(int(c.shape.size()), c.shape.data(), c.mask, x.data<float>(),
                       y.data<float>(), 1.0, v);
  });
  bench::set_bytes_rate(state, double(numel(c.shape) + numel(out)) * sizeof(float));
  state.SetLabel(cat(c.shape, " -> ", out, " ", c.what));
}
BENCHMARK(BM_ReduceSum)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3, 4, 5}})
    ->UseManualTime();

// [outer, D, inner]
struct MaxCase {
  int64_t outer, D, inner;
};
const std::vector<MaxCase> kMaxes = {
    {3, 5, 1},           // tiny
    {256, 1000, 1},      // classes of a logit batch
    {32, 5, 1},          // the DR grades
    {32, 64, 1024},      // channels of [32, 64, 32, 32]
    {64, 4096, 1},       // long rows: v2's block path
};

void BM_MaxForward(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::MaxVersion(state.range(0));
  const MaxCase& c = kMaxes[size_t(state.range(1))];
  const Tensor x = gpu_random({c.outer, c.D, c.inner}, 1);
  Tensor y = gpu_empty({c.outer, c.inner}), idx = gpu_empty({c.outer, c.inner}, DType::I64);
  bench::time_gpu(state, [&] {
    MT_GPU(max_forward)(c.outer, c.D, c.inner, x.data<float>(), y.data<float>(),
                        idx.data<int64_t>(), v);
  });
  bench::set_bytes_rate(state, double(c.outer * c.D * c.inner) * sizeof(float) +
                                   double(c.outer * c.inner) * (sizeof(float) + sizeof(int64_t)));
  state.SetLabel(cat("[", c.outer, ", ", c.D, ", ", c.inner, "]"));
}
BENCHMARK(BM_MaxForward)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3, 4}})
    ->UseManualTime();

void BM_MaxBackward(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::MaxVersion(state.range(0));
  const MaxCase& c = kMaxes[size_t(state.range(1))];
  const Tensor x = gpu_random({c.outer, c.D, c.inner}, 1);
  const Tensor dy = gpu_random({c.outer, c.inner}, 2);
  Tensor idx = gpu_empty({c.outer, c.inner}, DType::I64), dx = gpu_empty({c.outer, c.D, c.inner});
  MT_GPU(max_forward)(c.outer, c.D, c.inner, x.data<float>(), nullptr, idx.data<int64_t>(), v);
  bench::time_gpu(state, [&] {
    MT_GPU(max_backward)(c.outer, c.D, c.inner, idx.data<int64_t>(), dy.data<float>(),
                         dx.data<float>(), v);
  });
  bench::set_bytes_rate(state, double(c.outer * c.D * c.inner) * sizeof(float) +
                                   double(c.outer * c.inner) * (sizeof(float) + sizeof(int64_t)));
  state.SetLabel(cat("[", c.outer, ", ", c.D, ", ", c.inner, "]"));
}
BENCHMARK(BM_MaxBackward)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3, 4}})
    ->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
