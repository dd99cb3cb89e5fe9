// conv2d CUDA kernels, every pass x version, on layer shapes of the nets
// (batch 32): the student's 3x3 32 -> 64 at 32x32, the teacher's 3x3 64 -> 64
// at 16x16 and its 7x7 stride-2 stem 3 -> 64 at 64x64; plus a tiny layer that
// the emulator can run (MEDTEX_BENCH_EMULATED=1: only it runs there, the
// others skip). GFLOP/s counts 2 * N*K*OH*OW*C*R*S per pass, as
// bench/kernels/bench_conv2d.cpp does for the CPU twin.
//
//   ./bench_conv2d_cuda                                  # on a GPU
//   MEDTEX_BENCH_EMULATED=1 ./bench_conv2d_cuda --benchmark_min_time=0.001s
#include <benchmark/benchmark.h>

#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv2d_cuda.h"

namespace medtex {
namespace {

using cpu::Conv2dParams;
using gpu::Conv2dVersion;

struct Layer {
  const char* name;
  int64_t N, C, HW, K, R, stride, padding;
};

// Indexed by the benchmark's first argument.
const Layer kLayers[] = {
    {"student 3x3 32->64 @32x32", 32, 32, 32, 64, 3, 1, 1},
    {"teacher 3x3 64->64 @16x16", 32, 64, 16, 64, 3, 1, 1},
    {"teacher stem 7x7/2 3->64 @64x64", 32, 3, 64, 64, 7, 2, 3},
    {"tiny 3x3/2 3->5 @9x9 (emulator)", 2, 3, 9, 5, 3, 2, 1},
};
constexpr int64_t kTinyLayer = 3;

// False (benchmark skipped) when there is no device, or when emulated and the
// layer is too big for the emulator.
bool ready(benchmark::State& state) {
  if (!bench::gpu_ready(state)) return false;
  if (!bench::vendor_allows(state, state.range(1) == bench::kVendorVersion)) return false;
  if (bench::gpu_emulated() && state.range(0) != kTinyLayer) {
    state.SkipWithError("emulated: only the tiny layer runs under the emulator");
    return false;
  }
  return true;
}

Conv2dParams params(const benchmark::State& state) {
  const Layer& l = kLayers[state.range(0)];
  return Conv2dParams::make(l.N, l.C, l.HW, l.HW, l.K, l.R, l.R, l.stride, l.padding);
}

Conv2dVersion version(const benchmark::State& state) { return Conv2dVersion(state.range(1)); }

void finish(benchmark::State& state, const Conv2dParams& p) {
  bench::set_flop_rate(state, 2.0 * double(p.N * p.K * p.OH * p.OW) * double(p.C * p.R * p.S));
  state.SetLabel(std::string(kLayers[state.range(0)].name) + " v" + std::to_string(state.range(1)));
}

void BM_Conv2dCudaForward(benchmark::State& state) {
  if (!ready(state)) return;
  const Conv2dParams p = params(state);
  const Tensor x = bench::gpu_random({p.N, p.C, p.H, p.W}, 1);
  const Tensor w = bench::gpu_random({p.K, p.C, p.R, p.S}, 2), b = bench::gpu_random({p.K}, 3);
  Tensor y = Tensor::empty({p.N, p.K, p.OH, p.OW}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(conv2d_forward)(p, x.data<float>(), w.data<float>(), b.data<float>(), y.data<float>(),
                           version(state));
  });
  finish(state, p);
}

void BM_Conv2dCudaBackwardInput(benchmark::State& state) {
  if (!ready(state)) return;
  const Conv2dParams p = params(state);
  const Tensor dy = bench::gpu_random({p.N, p.K, p.OH, p.OW}, 1);
  const Tensor w = bench::gpu_random({p.K, p.C, p.R, p.S}, 2);
  Tensor dx = Tensor::empty({p.N, p.C, p.H, p.W}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(conv2d_backward_input)(p, dy.data<float>(), w.data<float>(), dx.data<float>(),
                                  version(state));
  });
  finish(state, p);
}

// dw and db accumulate across iterations, as over a training step's layers.
void BM_Conv2dCudaBackwardWeight(benchmark::State& state) {
  if (!ready(state)) return;
  const Conv2dParams p = params(state);
  const Tensor x = bench::gpu_random({p.N, p.C, p.H, p.W}, 1);
  const Tensor dy = bench::gpu_random({p.N, p.K, p.OH, p.OW}, 2);
  Tensor dw = Tensor::zeros({p.K, p.C, p.R, p.S}, DType::F32, Device::cuda());
  Tensor db = Tensor::zeros({p.K}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(conv2d_backward_weight)(p, x.data<float>(), dy.data<float>(), dw.data<float>(),
                                   db.data<float>(), version(state));
  });
  finish(state, p);
}

void layers_and_versions(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer", "v"})->ArgsProduct({{0, 1, 2, kTinyLayer}, {1, 2, 3, bench::kVendorVersion}});
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Conv2dCudaForward)->Apply(layers_and_versions);
BENCHMARK(BM_Conv2dCudaBackwardInput)->Apply(layers_and_versions);
BENCHMARK(BM_Conv2dCudaBackwardWeight)->Apply(layers_and_versions);

}  // namespace
}  // namespace medtex

BENCHMARK_MAIN();
