// batchnorm2d on the GPU, every version: training forward (statistics,
// normalise, running update), training backward, evaluation forward. Shapes
// as the CPU benchmark (bench/kernels/bench_batchnorm2d.cpp): cnn-small at
// 64x64 input, batch 32, stage 1 [32, 16, 64, 64] (few wide channels: what v3
// is for) and stage 4 [32, 128, 8, 8] (many narrow ones), plus the resnet18
// (width 0.5) stem [32, 32, 32, 32]; and a tiny shape so that
// MEDTEX_BENCH_EMULATED=1 checks every entry quickly
// (--benchmark_filter='[a-zA-Z]/3/').
// GB/s over the bytes a pass must move: forward reads x and writes y (2
// tensors), backward reads x and dy and writes dx (3); the [C] vectors are
// negligible. v1 (one thread per channel) is the naive port: expect it slow.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/batchnorm2d/batchnorm2d_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::Tensor;
using medtex::bench::gpu_random;
using medtex::gpu::BatchNorm2dVersion;

struct Shape {
  int64_t N, C, H, W;
};
const Shape kShapes[] = {
    {32, 16, 64, 64},  // 0: cnn-small stage 1
    {32, 128, 8, 8},   // 1: cnn-small stage 4
    {32, 32, 32, 32},  // 2: resnet18 (width 0.5) stem
    {2, 3, 8, 8},      // 3: tiny, for the emulated check
};

medtex::cpu::BatchNorm2dShape setup(benchmark::State& state, BatchNorm2dVersion& v) {
  const Shape& s = kShapes[state.range(0)];
  v = BatchNorm2dVersion(state.range(1));
  state.SetLabel(medtex::bench::shape_label({s.N, s.C, s.H, s.W}) +
                 (state.range(0) == 3 ? " tiny" : "") + " v" + std::to_string(state.range(1)));
  return {s.N, s.C, s.H * s.W};
}

double tensor_bytes(const medtex::cpu::BatchNorm2dShape& s) {
  return double(s.n * s.c * s.hw) * sizeof(float);
}

void BM_BatchNorm2dCudaForwardTrain(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3) ||
      !medtex::bench::vendor_allows(state, state.range(1) == medtex::bench::kVendorVersion))
    return;
  BatchNorm2dVersion v{};
  const auto s = setup(state, v);
  const Tensor x = gpu_random({s.n, s.c, s.hw}, 1);
  const Tensor w = gpu_random({s.c}, 2, 0.5f, 1.5f), b = gpu_random({s.c}, 3);
  Tensor y = Tensor::empty(x.shape(), DType::F32, Device::cuda());
  Tensor mean = Tensor::empty({s.c}, DType::F32, Device::cuda());
  Tensor invstd = Tensor::empty({s.c}, DType::F32, Device::cuda());
  Tensor rmean = Tensor::zeros({s.c}, DType::F32, Device::cuda());
  Tensor rvar = Tensor::ones({s.c}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(batchnorm2d_forward_train)(s, x.data<float>(), w.data<float>(), b.data<float>(), 0.1,
                                      1e-5, y.data<float>(), mean.data<float>(),
                                      invstd.data<float>(), rmean.data<float>(),
                                      rvar.data<float>(), v);
  });
  medtex::bench::set_bytes_rate(state, 2 * tensor_bytes(s));
}

void BM_BatchNorm2dCudaBackwardTrain(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3) ||
      !medtex::bench::vendor_allows(state, state.range(1) == medtex::bench::kVendorVersion))
    return;
  BatchNorm2dVersion v{};
  const auto s = setup(state, v);
  const Tensor x = gpu_random({s.n, s.c, s.hw}, 1), dy = gpu_random({s.n, s.c, s.hw}, 4);
  const Tensor w = gpu_random({s.c}, 2, 0.5f, 1.5f), mean = gpu_random({s.c}, 5, -0.1f, 0.1f);
  const Tensor invstd = gpu_random({s.c}, 6, 2.0f, 4.0f);  // var of U(-0.5, 0.5) is 1/12
  Tensor dx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
  Tensor dw = Tensor::zeros({s.c}, DType::F32, Device::cuda());
  Tensor db = Tensor::zeros({s.c}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(batchnorm2d_backward)(s, true, x.data<float>(), dy.data<float>(), mean.data<float>(),
                                 invstd.data<float>(), w.data<float>(), dx.data<float>(),
                                 dw.data<float>(), db.data<float>(), v);
  });
  medtex::bench::set_bytes_rate(state, 3 * tensor_bytes(s));
}

void BM_BatchNorm2dCudaForwardEval(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3) ||
      !medtex::bench::vendor_allows(state, state.range(1) == medtex::bench::kVendorVersion))
    return;
  BatchNorm2dVersion v{};
  const auto s = setup(state, v);
  const Tensor x = gpu_random({s.n, s.c, s.hw}, 1);
  const Tensor w = gpu_random({s.c}, 2, 0.5f, 1.5f), b = gpu_random({s.c}, 3);
  const Tensor rmean = gpu_random({s.c}, 5, -0.1f, 0.1f), rvar = gpu_random({s.c}, 6, 0.05f, 0.1f);
  Tensor y = Tensor::empty(x.shape(), DType::F32, Device::cuda());
  Tensor invstd = Tensor::empty({s.c}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(batchnorm2d_forward_eval)(s, x.data<float>(), w.data<float>(), b.data<float>(),
                                     rmean.data<float>(), rvar.data<float>(), 1e-5,
                                     y.data<float>(), invstd.data<float>(), v);
  });
  medtex::bench::set_bytes_rate(state, 2 * tensor_bytes(s));
}

// (shape, version)
#define MT_BN_ARGS \
  ArgsProduct({{0, 1, 2, 3}, {1, 2, 3, medtex::bench::kVendorVersion}})->UseManualTime()->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_BatchNorm2dCudaForwardTrain)->MT_BN_ARGS;
BENCHMARK(BM_BatchNorm2dCudaBackwardTrain)->MT_BN_ARGS;
BENCHMARK(BM_BatchNorm2dCudaForwardEval)->MT_BN_ARGS;
#undef MT_BN_ARGS

}  // namespace

BENCHMARK_MAIN();
