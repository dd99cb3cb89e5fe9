// ReLU forward and backward and the memory ops (fill, add_into: autograd's
// gradient sum) on the GPU, every version, on the student's and the teacher's
// activations; the last size is a toy for MEDTEX_BENCH_EMULATED=1. GB/s over
// the bytes a pass must move (relu forward 8 per element, backward 12;
// fill 4; add_into 12).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/cuda/gpu_bench.h"
#include "kernels/memory/memory_cuda.h"
#include "kernels/relu/relu_cuda.h"

namespace {

using medtex::Device;
using medtex::DType;
using medtex::Shape;
using medtex::Tensor;
namespace bench = medtex::bench;
namespace gpu = medtex::gpu;

const Shape kShapes[] = {{32, 16, 64, 64}, {32, 64, 16, 16}, {32, 32, 16, 16}, {3, 5, 7}};
constexpr int64_t kToy = 3;

int64_t setup(benchmark::State& state, const char* what, int64_t version) {
  const Shape& s = kShapes[state.range(0)];
  state.SetLabel(std::string(what) + " " + bench::shape_label({s[0], s[1], s[2]}) +
                 (version > 0 ? " v" + std::to_string(version) : ""));
  return medtex::numel(s);
}

void BM_ReluForwardCuda(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(0) == kToy)) return;
  const int64_t n = setup(state, "relu fwd", state.range(1));
  const Tensor x = bench::gpu_random({n}, 1);
  Tensor y = Tensor::empty({n}, DType::F32, Device::cuda());
  const auto v = gpu::ReluVersion(state.range(1));
  bench::time_gpu(state, [&] { MT_GPU(relu_forward)(n, x.data<float>(), y.data<float>(), v); });
  bench::set_bytes_rate(state, 8.0 * double(n));
}
BENCHMARK(BM_ReluForwardCuda)->ArgsProduct({{0, 1, 2, 3}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_ReluBackwardCuda(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(0) == kToy)) return;
  const int64_t n = setup(state, "relu bwd", state.range(1));
  const Tensor y = bench::gpu_random({n}, 1), dy = bench::gpu_random({n}, 2);
  Tensor dx = Tensor::empty({n}, DType::F32, Device::cuda());
  const auto v = gpu::ReluVersion(state.range(1));
  bench::time_gpu(state, [&] {
    MT_GPU(relu_backward)(n, y.data<float>(), dy.data<float>(), dx.data<float>(), v);
  });
  bench::set_bytes_rate(state, 12.0 * double(n));
}
BENCHMARK(BM_ReluBackwardCuda)->ArgsProduct({{0, 1, 2, 3}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_FillCuda(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(0) == kToy)) return;
  const int64_t n = setup(state, "fill", 0);
  Tensor y = Tensor::empty({n}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] { MT_GPU(fill<float>)(n, 1.5f, y.data<float>()); });
  bench::set_bytes_rate(state, 4.0 * double(n));
}
BENCHMARK(BM_FillCuda)->DenseRange(0, 3)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_AddIntoCuda(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(0) == kToy)) return;
  const int64_t n = setup(state, "add_into", 0);
  const Tensor a = bench::gpu_random({n}, 1), b = bench::gpu_random({n}, 2);
  Tensor c = Tensor::empty({n}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(add_into)(n, a.data<float>(), b.data<float>(), c.data<float>());
  });
  bench::set_bytes_rate(state, 12.0 * double(n));
}
BENCHMARK(BM_AddIntoCuda)->DenseRange(0, 3)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
BENCHMARK_MAIN();
