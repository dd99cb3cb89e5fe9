// Helpers for the GPU kernel benchmarks (bench/cuda/bench_*_cuda.cpp).
//
// A GPU benchmark measures the real device. On a machine without one each
// benchmark is skipped with the reason, never timed. MEDTEX_BENCH_EMULATED=1
// runs them under the SIMT emulator instead: that checks that every
// benchmark runs (tools/gpu-check does it on CPU machines), it measures
// nothing about GPUs.
//
// Register with ->UseManualTime(): time_gpu() synchronises the device around
// each call and reports the wall time of the call alone, so the rates
// (set_flop_rate, set_bytes_rate from bench/kernels/bench_util.h) are device
// rates.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "engine/tensor.h"
#include "kernels/runtime/gpu.h"
#include "kernels/vendor/vendor.h"

namespace medtex::bench {

// True when MEDTEX_BENCH_EMULATED=1: the benchmarks run under the emulator.
inline bool bench_emulated() {
  const char* v = std::getenv("MEDTEX_BENCH_EMULATED");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// The cases a benchmark registers: `real` on a GPU, `toy` under the emulator,
// where a real size would run for hours (tools/gpu-check --emulated runs the
// toy cases to check every benchmark works). Use it in the registration:
//   for (const auto& s : bench::cases(kShapes, kToyShapes)) ...->Args(s);
template <class T>
std::vector<T> cases(const std::vector<T>& real, const std::vector<T>& toy) {
  return bench_emulated() ? toy : real;
}

// Selects the backend on first use; false (and the benchmark skipped with the
// reason) when there is nothing to run on.
inline bool gpu_ready(benchmark::State& state) {
  static const std::string why_not = []() -> std::string {
    try {
      if (bench_emulated()) {
        gpu::use(gpu::Backend::kEmulated);
        return "";
      }
      const gpu::Probe& p = gpu::probe_cuda();
      if (!p.available) return "no GPU (" + p.reason + "); MEDTEX_BENCH_EMULATED=1 runs it emulated";
      gpu::use(gpu::Backend::kCuda);
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  }();
  if (!why_not.empty()) state.SkipWithError(why_not.c_str());
  return why_not.empty();
}

inline bool gpu_emulated() { return gpu::active() == gpu::Backend::kEmulated; }

// Under the emulator only a benchmark's toy case runs (a real size would run
// for hours); the others skip, saying so. `toy`: this case is the toy one.
inline bool emulator_allows(benchmark::State& state, bool toy) {
  if (!gpu_emulated() || toy) return true;
  state.SkipWithError("emulated: only the toy size runs under the emulator");
  return false;
}

// The vendor path (cuBLAS/cuDNN; version number 9 in the gemm, conv2d and
// batchnorm2d benchmarks) beside ours: on a real GPU with the libraries only;
// otherwise the case skips, saying why.
inline constexpr int64_t kVendorVersion = 9;
inline bool vendor_allows(benchmark::State& state, bool is_vendor) {
  if (!is_vendor) return true;
  std::string why;
  if (gpu_emulated()) why = "vendor: cuBLAS/cuDNN need a real GPU";
  else if (!vendor::cublas().loaded) why = "vendor: cuBLAS unavailable: " + vendor::cublas().detail;
  else if (!vendor::cudnn().loaded) why = "vendor: cuDNN unavailable: " + vendor::cudnn().detail;
  if (why.empty()) return true;
  state.SkipWithError(why.c_str());
  return false;
}

// One call of `body` per iteration, timed between two device synchronisations.
template <class F>
void time_gpu(benchmark::State& state, F&& body) {
  body();  // warm-up: first-touch allocation, module load
  gpu::synchronize("benchmark warm-up");
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    gpu::synchronize("benchmark");
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
}

// A float32 device tensor with values from random_vec (finite, no denormals).
inline Tensor gpu_random(const Shape& shape, unsigned seed, float lo = -0.5f, float hi = 0.5f) {
  return Tensor::from_vector<float>(random_vec(numel(shape), seed, lo, hi), shape)
      .to(Device::cuda());
}

}  // namespace medtex::bench
