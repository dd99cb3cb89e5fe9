// linear on the GPU with the default GEMM (kGemmDefault): forward (with the
// bias add), backward-input, backward-weight (with the bias column sum), on
// the teacher's classifier ([256, 512] -> 1000) and the student's head
// ([32, 128] -> 5). GFLOP/s counts 2 n in out per pass, as
// bench/kernels/bench_linear.cpp does for the CPU twin.
//
//   ./bench_linear_cuda                                  # on a GPU
//   MEDTEX_BENCH_EMULATED=1 ./bench_linear_cuda --benchmark_min_time=0.001   # toy size
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/cuda/gpu_bench.h"
#include "kernels/linear/linear_cuda.h"

namespace medtex {
namespace {

struct Layer {
  const char* name;
  int64_t n, in, out;
};

// Indexed by the benchmark's argument.
const Layer kLayers[] = {
    {"teacher classifier [256,512]->1000", 256, 512, 1000},
    {"student head [32,128]->5", 32, 128, 5},
    {"toy [3,17]->5", 3, 17, 5},  // emulator only
};

void layers(benchmark::internal::Benchmark* b) {
  for (const int64_t l : bench::cases<int64_t>({0, 1}, {2})) b->Arg(l);
}

void finish(benchmark::State& state, const Layer& l) {
  bench::set_flop_rate(state, 2.0 * double(l.n) * double(l.in) * double(l.out));
  state.SetLabel(l.name);
}

void BM_LinearCudaForward(benchmark::State& state) {
  if (!bench::gpu_ready(state)) return;
  const Layer& l = kLayers[state.range(0)];
  const Tensor x = bench::gpu_random({l.n, l.in}, 1), w = bench::gpu_random({l.out, l.in}, 2);
  const Tensor b = bench::gpu_random({l.out}, 3);
  Tensor y = Tensor::empty({l.n, l.out}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(linear_forward)(l.n, l.in, l.out, x.data<float>(), w.data<float>(), b.data<float>(),
                           y.data<float>(), gpu::kGemmDefault);
  });
  finish(state, l);
}
BENCHMARK(BM_LinearCudaForward)->Apply(layers)->UseManualTime();

void BM_LinearCudaBackwardInput(benchmark::State& state) {
  if (!bench::gpu_ready(state)) return;
  const Layer& l = kLayers[state.range(0)];
  const Tensor dy = bench::gpu_random({l.n, l.out}, 1), w = bench::gpu_random({l.out, l.in}, 2);
  Tensor dx = Tensor::empty({l.n, l.in}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(linear_backward_input)(l.n, l.in, l.out, dy.data<float>(), w.data<float>(),
                                  dx.data<float>(), gpu::kGemmDefault);
  });
  finish(state, l);
}
BENCHMARK(BM_LinearCudaBackwardInput)->Apply(layers)->UseManualTime();

void BM_LinearCudaBackwardWeight(benchmark::State& state) {
  if (!bench::gpu_ready(state)) return;
  const Layer& l = kLayers[state.range(0)];
  const Tensor x = bench::gpu_random({l.n, l.in}, 1), dy = bench::gpu_random({l.n, l.out}, 2);
  Tensor dw = Tensor::zeros({l.out, l.in}, DType::F32, Device::cuda());
  Tensor db = Tensor::zeros({l.out}, DType::F32, Device::cuda());
  bench::time_gpu(state, [&] {
    MT_GPU(linear_backward_weight)(l.n, l.in, l.out, x.data<float>(), dy.data<float>(),
                                   dw.data<float>(), db.data<float>(), gpu::kGemmDefault);
  });
  finish(state, l);
}
BENCHMARK(BM_LinearCudaBackwardWeight)->Apply(layers)->UseManualTime();

}  // namespace
}  // namespace medtex

BENCHMARK_MAIN();
