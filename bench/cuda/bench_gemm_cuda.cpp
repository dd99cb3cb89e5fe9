// gemm CUDA kernels, every version, on square sizes and the GEMMs of the nets:
// the teacher's classifier ([256, 512] -> 1000 classes: forward, backward-
// input, backward-weight), the student's head ([32, 128] -> 5), and the three
// im2col GEMMs of a 3x3 conv 16 -> 32 on 32x32 (as bench/kernels/bench_gemm.cpp
// times the CPU twin). GFLOP/s counts 2 M N K per call. Versions 3, 4 and 5 are
// v3 with its own tile choice, pinned to 64x64 and pinned to 128x128.
//
//   ./bench_gemm_cuda                                  # on a GPU
//   MEDTEX_BENCH_EMULATED=1 ./bench_gemm_cuda --benchmark_min_time=0.001   # toy sizes
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/cuda/gpu_bench.h"
#include "kernels/gemm/gemm_cuda.h"

namespace medtex {
namespace {

struct Shape3 {
  const char* name;
  bool trans_a, trans_b;
  int64_t M, N, K;
};

// Indexed by the benchmark's first argument.
const Shape3 kShapes[] = {
    {"512^3", false, false, 512, 512, 512},
    {"1024^3", false, false, 1024, 1024, 1024},
    {"4096^3", false, false, 4096, 4096, 4096},
    {"linear fwd [256,512]x[1000,512]^T", false, true, 256, 1000, 512},
    {"linear bwd-input [256,1000]x[1000,512]", false, false, 256, 512, 1000},
    {"linear bwd-weight [256,1000]^Tx[256,512]", true, false, 1000, 512, 256},
    {"student head [32,128]x[5,128]^T", false, true, 32, 5, 128},
    {"conv fwd w[32,144] col[144,1024]", false, false, 32, 1024, 144},
    {"conv bwd-input w^T[144,32] dy[32,1024]", true, false, 144, 1024, 32},
    {"conv bwd-weight dy[32,1024] col^T[1024,144]", false, true, 32, 144, 1024},
    {"toy 7x13x5", false, false, 7, 13, 5},         // emulator only
    {"toy 33x65x17 A^T", true, false, 33, 65, 17},  // emulator only
};
constexpr int64_t kFirstToy = 10;
constexpr int64_t kShapeCount = sizeof(kShapes) / sizeof(kShapes[0]);

void versions_and_shapes(benchmark::internal::Benchmark* b) {
  std::vector<int64_t> real, toy;
  for (int64_t s = 0; s < kShapeCount; ++s) (s < kFirstToy ? real : toy).push_back(s);
  for (const int64_t s : bench::cases(real, toy)) {
    for (int64_t v : {1, 2, 3, 4, 5, int(bench::kVendorVersion)}) b->Args({s, v});
  }
}

void BM_GemmCuda(benchmark::State& state) {
  if (!bench::gpu_ready(state) ||
      !bench::vendor_allows(state, state.range(1) == bench::kVendorVersion))
    return;
  const Shape3& s = kShapes[state.range(0)];
  const auto v = gpu::GemmVersion(state.range(1));
  const Tensor a = bench::gpu_random({s.M * s.K}, 1), b = bench::gpu_random({s.K * s.N}, 2);
  Tensor c = Tensor::empty({s.M, s.N}, DType::F32, Device::cuda());
  const int64_t lda = s.trans_a ? s.M : s.K, ldb = s.trans_b ? s.K : s.N;
  bench::time_gpu(state, [&] {
    MT_GPU(gemm)(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.f, a.data<float>(), lda, b.data<float>(),
                 ldb, 0.f, c.data<float>(), s.N, v);
  });
  bench::set_flop_rate(state, 2.0 * double(s.M) * double(s.N) * double(s.K));
  state.SetLabel(std::string(s.name) + " v" + std::to_string(state.range(1)));
}
BENCHMARK(BM_GemmCuda)->Apply(versions_and_shapes)->UseManualTime();

}  // namespace
}  // namespace medtex

BENCHMARK_MAIN();
