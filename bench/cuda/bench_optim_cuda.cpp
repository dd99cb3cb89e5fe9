// Optimiser steps on the GPU, every version: SGD (plain, and with momentum and
// weight decay) and Adam / AdamW over one flat tensor as large as a net's
// parameters: cnn-small's ~98k conv weights, 2^22 (resnet18 at width 0.5 has
// ~2.8M), resnet18's 11.2M at full width; then a tiny case (index 3, "tiny")
// for MEDTEX_BENCH_EMULATED=1: --benchmark_filter='/3/'. (The engine steps
// each parameter tensor with its own launch; many of them are small.) Memory-bound; GB/s over the
// bytes a step must move: SGD 12 per element (p read and written, g read), 20 with momentum (buf
// read and written too), Adam 28 (p, m, v read and written, g read).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/adam/adam_cuda.h"
#include "kernels/sgd/sgd_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::Tensor;
using medtex::bench::gpu_random;

const int64_t kSizes[] = {98'000, int64_t{1} << 22, 11'200'000, 37};

int64_t setup(benchmark::State& state, const char* what) {
  const int64_t n = kSizes[state.range(0)];
  state.SetLabel(std::string(what) + " n=" + std::to_string(n) + " v" +
                 std::to_string(state.range(1)) + (state.range(0) == 3 ? " tiny" : ""));
  return n;
}

void set_rates(benchmark::State& state, int64_t n, int bytes_per_element) {
  state.counters["Melem/s"] = benchmark::Counter(double(n) * double(state.iterations()) * 1e-6,
                                                 benchmark::Counter::kIsRate);
  medtex::bench::set_bytes_rate(state, double(n) * bytes_per_element);
}

void sgd(benchmark::State& state, bool momentum) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const int64_t n = setup(state, momentum ? "SGD momentum 0.9 wd 5e-4" : "SGD");
  const auto v = medtex::gpu::SgdVersion(state.range(1));
  Tensor p = gpu_random({n}, 1), g = gpu_random({n}, 2);
  Tensor buf = Tensor::zeros({n}, DType::F32, Device::cuda());
  medtex::cpu::SgdParams s;
  s.lr = 0.01;
  if (momentum) s.momentum = 0.9, s.weight_decay = 5e-4;
  bool first = true;
  medtex::bench::time_gpu(state, [&] {
    float* b = momentum ? buf.data<float>() : nullptr;
    MT_GPU(sgd_step)(n, p.data<float>(), g.data<float>(), b, s, first, v);
    first = false;
  });
  set_rates(state, n, momentum ? 20 : 12);
}

void BM_SgdStepCuda(benchmark::State& state) {
  sgd(state, false);
}
void BM_SgdMomentumStepCuda(benchmark::State& state) {
  sgd(state, true);
}

void adam(benchmark::State& state, bool decoupled) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const int64_t n = setup(state, decoupled ? "AdamW wd 0.01" : "Adam");
  const auto v = medtex::gpu::AdamVersion(state.range(1));
  Tensor p = gpu_random({n}, 1), g = gpu_random({n}, 2);
  Tensor m = Tensor::zeros({n}, DType::F32, Device::cuda());
  Tensor sq = Tensor::zeros({n}, DType::F32, Device::cuda());
  medtex::cpu::AdamParams a;
  if (decoupled) a.weight_decay = 0.01, a.decoupled = true;
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(adam_step)(n, p.data<float>(), g.data<float>(), m.data<float>(), sq.data<float>(), a, v);
    ++a.step;
  });
  set_rates(state, n, 28);
}

void BM_AdamStepCuda(benchmark::State& state) {
  adam(state, false);
}
void BM_AdamWStepCuda(benchmark::State& state) {
  adam(state, true);
}

#define MT_OPTIM_BENCH(name)                \
  BENCHMARK(name)                           \
      ->ArgsProduct({{0, 1, 2, 3}, {1, 2}}) \
      ->UseManualTime()                     \
      ->Unit(benchmark::kMicrosecond)
MT_OPTIM_BENCH(BM_SgdStepCuda);
MT_OPTIM_BENCH(BM_SgdMomentumStepCuda);
MT_OPTIM_BENCH(BM_AdamStepCuda);
MT_OPTIM_BENCH(BM_AdamWStepCuda);
#undef MT_OPTIM_BENCH

}  // namespace

BENCHMARK_MAIN();
