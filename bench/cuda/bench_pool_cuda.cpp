// The pooling ops on the GPU, forward and backward, every version: maxpool2d
// (the student's 2x2/2 after every stage, the teacher's 3x3/2 pad 1 after its
// stem), avgpool2d, global_avgpool (both nets' heads) and upsample_nearest
// (the MED-TEX patch mask spread over the pixels). Shapes as the CPU benchmark
// (bench/kernels/bench_pool.cpp): cnn-small at 64x64 input, batch 32, and
// resnet18 at width 0.5; each group ends with a tiny case (index 3, "tiny" in
// its label) so that MEDTEX_BENCH_EMULATED=1 checks every entry quickly:
// --benchmark_filter='/3(/|$)'.
// Memory-bound, so GB/s over the tensors each pass must touch: maxpool forward
// reads x and writes y and the int32 argmax; its backward reads argmax and dy
// and writes dx; the others move x (or dx) and y (or dy) once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/avgpool2d/avgpool2d_cuda.h"
#include "kernels/global_avgpool/global_avgpool_cuda.h"
#include "kernels/maxpool2d/maxpool2d_cuda.h"
#include "kernels/upsample_nearest/upsample_nearest_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::Tensor;
using medtex::bench::gpu_random;
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
    {2, 3, 9, 3, 2, 1},     // 3: tiny, for the emulated check
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
                 std::to_string(l.stride) + " p" + std::to_string(l.padding) +
                 (state.range(0) == 3 ? " tiny" : ""));
  return p;
}

void BM_MaxPool2dCudaForward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const auto p = window_params<medtex::cpu::MaxPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const Tensor x = gpu_random({in}, 1);
  Tensor y = Tensor::empty({out}, DType::F32, Device::cuda());
  Tensor arg = Tensor::empty({out}, DType::I32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(maxpool2d_forward)(p, x.data<float>(), y.data<float>(), arg.data<int32_t>(),
                              medtex::gpu::MaxPool2dVersion::kV1ThreadPerElement);
  });
  set_bytes_rate(state, double(in + out) * sizeof(float) + double(out) * sizeof(int32_t));
}

void BM_MaxPool2dCudaBackward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const auto p = window_params<medtex::cpu::MaxPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const Tensor x = gpu_random({in}, 1), dy = gpu_random({out}, 2);
  Tensor y = Tensor::empty({out}, DType::F32, Device::cuda());
  Tensor arg = Tensor::empty({out}, DType::I32, Device::cuda());
  Tensor dx = Tensor::empty({in}, DType::F32, Device::cuda());
  const auto v = medtex::gpu::MaxPool2dVersion::kV1ThreadPerElement;
  MT_GPU(maxpool2d_forward)(p, x.data<float>(), y.data<float>(), arg.data<int32_t>(), v);
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(maxpool2d_backward)(p, arg.data<int32_t>(), dy.data<float>(), dx.data<float>(), v);
  });
  set_bytes_rate(state, double(in + out) * sizeof(float) + double(out) * sizeof(int32_t));
}

void BM_AvgPool2dCudaForward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const auto p = window_params<medtex::cpu::AvgPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const Tensor x = gpu_random({in}, 1);
  Tensor y = Tensor::empty({out}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(avgpool2d_forward)(p, x.data<float>(), y.data<float>(),
                              medtex::gpu::AvgPool2dVersion::kV1ThreadPerElement);
  });
  set_bytes_rate(state, double(in + out) * sizeof(float));
}

void BM_AvgPool2dCudaBackward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const auto p = window_params<medtex::cpu::AvgPool2dParams>(state);
  const int64_t in = p.planes * p.h * p.w, out = p.planes * p.oh * p.ow;
  const Tensor dy = gpu_random({out}, 2);
  Tensor dx = Tensor::empty({in}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(avgpool2d_backward)(p, dy.data<float>(), dx.data<float>(),
                               medtex::gpu::AvgPool2dVersion::kV1ThreadPerElement);
  });
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
    {2, 3, 5},     // 3: tiny, for the emulated check
};

const Plane& plane_setup(benchmark::State& state) {
  const Plane& l = kPlanes[state.range(0)];
  state.SetLabel(shape_label({l.N, l.C, l.HW, l.HW}) + (state.range(0) == 3 ? " tiny" : "") +
                 " v" + std::to_string(state.range(1)));
  return l;
}

void BM_GlobalAvgPoolCudaForward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const Plane& l = plane_setup(state);
  const int64_t planes = l.N * l.C, hw = l.HW * l.HW;
  const Tensor x = gpu_random({planes * hw}, 1);
  Tensor y = Tensor::empty({planes}, DType::F32, Device::cuda());
  const auto v = medtex::gpu::GlobalAvgPoolVersion(state.range(1));
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(global_avgpool_forward)(planes, hw, x.data<float>(), y.data<float>(), v);
  });
  set_bytes_rate(state, double(planes * hw + planes) * sizeof(float));
}

void BM_GlobalAvgPoolCudaBackward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const Plane& l = plane_setup(state);
  const int64_t planes = l.N * l.C, hw = l.HW * l.HW;
  const Tensor dy = gpu_random({planes}, 2);
  Tensor dx = Tensor::empty({planes * hw}, DType::F32, Device::cuda());
  const auto v = medtex::gpu::GlobalAvgPoolVersion(state.range(1));
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(global_avgpool_backward)(planes, hw, dy.data<float>(), dx.data<float>(), v);
  });
  set_bytes_rate(state, double(planes * hw + planes) * sizeof(float));
}

// Upsampling: the patch mask [N, 1, H / p, W / p] spread over 64x64 images
// (patch 8 and 4), and a wider map for the rate.
struct Upsample {
  int64_t N, C, HW;
  int factor;
};
const Upsample kUpsamples[] = {
    {32, 1, 8, 8},    // 0: mask of 8x8 patches -> [32, 1, 64, 64]
    {32, 1, 16, 4},   // 1: mask of 4x4 patches -> [32, 1, 64, 64]
    {32, 16, 32, 2},  // 2: a [32, 16, 32, 32] map doubled, for the rate
    {2, 3, 5, 3},     // 3: tiny, for the emulated check
};

const Upsample& upsample_setup(benchmark::State& state) {
  const Upsample& l = kUpsamples[state.range(0)];
  state.SetLabel(shape_label({l.N, l.C, l.HW, l.HW}) + " x" + std::to_string(l.factor) +
                 (state.range(0) == 3 ? " tiny" : ""));
  return l;
}

void BM_UpsampleNearestCudaForward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const Upsample& l = upsample_setup(state);
  const int64_t planes = l.N * l.C, in = planes * l.HW * l.HW, out = in * l.factor * l.factor;
  const Tensor x = gpu_random({in}, 1);
  Tensor y = Tensor::empty({out}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(upsample_nearest_forward)(planes, l.HW, l.HW, l.factor, x.data<float>(),
                                     y.data<float>(),
                                     medtex::gpu::UpsampleNearestVersion::kV1ThreadPerElement);
  });
  set_bytes_rate(state, double(in + out) * sizeof(float));
}

void BM_UpsampleNearestCudaBackward(benchmark::State& state) {
  if (!medtex::bench::gpu_ready(state) || !medtex::bench::emulator_allows(state, state.range(0) == 3)) return;
  const Upsample& l = upsample_setup(state);
  const int64_t planes = l.N * l.C, in = planes * l.HW * l.HW, out = in * l.factor * l.factor;
  const Tensor dy = gpu_random({out}, 2);
  Tensor dx = Tensor::empty({in}, DType::F32, Device::cuda());
  medtex::bench::time_gpu(state, [&] {
    MT_GPU(upsample_nearest_backward)(planes, l.HW, l.HW, l.factor, dy.data<float>(),
                                      dx.data<float>(),
                                      medtex::gpu::UpsampleNearestVersion::kV1ThreadPerElement);
  });
  set_bytes_rate(state, double(in + out) * sizeof(float));
}

#define MT_POOL_ARGS DenseRange(0, 3)->UseManualTime()->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_MaxPool2dCudaForward)->MT_POOL_ARGS;
BENCHMARK(BM_MaxPool2dCudaBackward)->MT_POOL_ARGS;
BENCHMARK(BM_AvgPool2dCudaForward)->MT_POOL_ARGS;
BENCHMARK(BM_AvgPool2dCudaBackward)->MT_POOL_ARGS;
BENCHMARK(BM_UpsampleNearestCudaForward)->MT_POOL_ARGS;
BENCHMARK(BM_UpsampleNearestCudaBackward)->MT_POOL_ARGS;
#undef MT_POOL_ARGS
// (shape, version); the backward has one kernel, listed as v1.
#define MT_GAP_ARGS \
  ArgsProduct({{0, 1, 2, 3}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_GlobalAvgPoolCudaForward)->MT_GAP_ARGS;
BENCHMARK(BM_GlobalAvgPoolCudaBackward)->ArgsProduct({{0, 1, 2, 3}, {1}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
#undef MT_GAP_ARGS

}  // namespace

BENCHMARK_MAIN();
