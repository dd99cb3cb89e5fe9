// Helpers shared by the kernel benchmarks: deterministic inputs and the rate
// counters every suite reports beside its times.
//
// Rates are over wall time (register benchmarks with ->UseRealTime(): the
// kernels run on OpenMP threads, so the main thread's CPU time would
// undercount). GB/s counts the bytes a pass must move at least: every input
// read once and every output written once, even where a kernel reads an input
// twice (batchnorm's statistics pass, for instance). So it is the rate the
// op delivers to its caller, comparable with the machine's memory bandwidth.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/common/parallel.h"

namespace medtex::bench {

// n ordinary finite floats in [lo, hi) from a small LCG: benchmarks need
// realistic values (no denormals, no NaN), not good randomness.
inline std::vector<float> random_vec(int64_t n, unsigned seed, float lo = -0.5f, float hi = 0.5f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = lo + (hi - lo) * (float(seed >> 8) / float(1 << 24));
  }
  return v;
}

// GB/s: bytes moved per call, as a rate over the timed iterations.
inline void set_bytes_rate(benchmark::State& state, double bytes_per_call) {
  state.counters["GB/s"] = benchmark::Counter(bytes_per_call * double(state.iterations()) * 1e-9,
                                              benchmark::Counter::kIsRate);
  state.counters["threads"] = medtex::num_threads();
}

// GFLOP/s: floating-point operations per call, as a rate.
inline void set_flop_rate(benchmark::State& state, double flops_per_call) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_call * double(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  state.counters["threads"] = medtex::num_threads();
}

// "[32, 16, 64, 64]": a shape for the benchmark's label.
inline std::string shape_label(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  for (const int64_t d : dims) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
  return s + "]";
}

}  // namespace medtex::bench
