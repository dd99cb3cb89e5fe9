// softmax / log_softmax CUDA kernels (at the distillation temperature T = 2)
// and the losses built on them, every version, forward and backward:
// rows of 1000 (an ImageNet-sized head, batch 256), of 5 (the DR grades), of
// 64 (the last dim of a [32, 16, 64, 64] activation), the channel dim of that
// activation (inner > 1: strided rows), long rows of 8192 (v2's block path);
// cross-entropy with int64 labels and with soft targets, KL divergence and
// BCE with logits.
//
// GB/s counts every input read once and every output written once (labels,
// and the double log-sum-exp the cross-entropy forward keeps, included):
// compare with the device's memory bandwidth (H100 SXM: 3.35 TB/s, H200:
// 4.8 TB/s); small batches are bound by launch latency instead.
// size 0 of each benchmark is a tiny shape for a smoke run under the
// emulator: MEDTEX_BENCH_EMULATED=1 ./bench_softmax_cuda --benchmark_filter=size:0
#include <benchmark/benchmark.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <sstream>
#include <string>
#include <vector>

#include "bench/cuda/gpu_bench.h"
#include "engine/tensor.h"
#include "kernels/bce_with_logits/bce_with_logits_cuda.h"
#include "kernels/cross_entropy/cross_entropy_cuda.h"
#include "kernels/kl_div/kl_div_cuda.h"
#include "kernels/softmax/softmax_cuda.h"

namespace {

using namespace medtex;
using bench::gpu_random;

constexpr float kInvTemperature = 0.5f;  // T_kd = 2

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

std::string label(const cpu::SoftmaxShape& s) {
  return cat("[", s.outer, ", ", s.dim, ", ", s.inner, "]");
}

const std::vector<cpu::SoftmaxShape> kSoftmaxShapes = {
    {3, 5, 1},            // tiny
    {256, 1000, 1},       // logits of an ImageNet-sized head
    {32, 5, 1},           // the DR grades
    {32 * 16 * 64, 64, 1},  // [32, 16, 64, 64] along the last dim
    {32, 16, 64 * 64},    // [32, 16, 64, 64] along dim 1 (strided rows)
    {64, 8192, 1},        // long rows: v2's block path
};

void BM_Softmax(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::SoftmaxVersion(state.range(0));
  const cpu::SoftmaxShape s = kSoftmaxShapes[size_t(state.range(1))];
  const bool log = state.range(2) & 1, backward = state.range(2) & 2;
  const Shape shape = {s.outer, s.dim, s.inner};
  const Tensor x = gpu_random(shape, 1, -4, 4), dy = gpu_random(shape, 2);
  Tensor y = gpu_empty(shape), dx = gpu_empty(shape);
  if (log) {
    MT_GPU(log_softmax_forward)(s, kInvTemperature, x.data<float>(), y.data<float>(), v);
  } else {
    MT_GPU(softmax_forward)(s, kInvTemperature, x.data<float>(), y.data<float>(), v);
  }
  bench::time_gpu(state, [&] {
    if (backward && log) {
      MT_GPU(log_softmax_backward)(s, kInvTemperature, y.data<float>(), dy.data<float>(),
                                   dx.data<float>(), v);
    } else if (backward) {
      MT_GPU(softmax_backward)(s, kInvTemperature, y.data<float>(), dy.data<float>(),
                               dx.data<float>(), v);
    } else if (log) {
      MT_GPU(log_softmax_forward)(s, kInvTemperature, x.data<float>(), y.data<float>(), v);
    } else {
      MT_GPU(softmax_forward)(s, kInvTemperature, x.data<float>(), y.data<float>(), v);
    }
  });
  bench::set_bytes_rate(state, (backward ? 3.0 : 2.0) * double(numel(shape)) * sizeof(float));
  state.SetLabel(cat(log ? "log_softmax" : "softmax", backward ? " backward " : " ", label(s)));
}
// kind: 0 softmax, 1 log_softmax, 2 softmax backward, 3 log_softmax backward.
BENCHMARK(BM_Softmax)
    ->ArgNames({"v", "size", "kind"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3}})
    ->UseManualTime();

// [n, c] logits.
const std::vector<std::pair<int64_t, int64_t>> kLogits = {{3, 5}, {256, 1000}, {32, 5}, {64, 8192}};

void BM_CrossEntropy(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::CrossEntropyVersion(state.range(0));
  const auto [n, c] = kLogits[size_t(state.range(1))];
  const bool backward = state.range(2) != 0;
  std::vector<int64_t> lab(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) lab[size_t(i)] = (i * 7919) % c;
  const Tensor x = gpu_random({n, c}, 1, -4, 4);
  const Tensor labels = Tensor::from_vector(lab, {n}).to(Device::cuda());
  const Tensor dloss = Tensor::ones({1}, DType::F32, Device::cuda());
  Tensor lse = gpu_empty({n}, DType::F64), loss = gpu_empty({1}), dx = gpu_empty({n, c});
  MT_GPU(cross_entropy_forward<int64_t>)(n, c, x.data<float>(), labels.data<int64_t>(),
                                         lse.data<double>(), loss.data<float>(), v);
  bench::time_gpu(state, [&] {
    if (backward) {
      MT_GPU(cross_entropy_backward<int64_t>)(n, c, x.data<float>(), labels.data<int64_t>(),
                                              lse.data<double>(), dloss.data<float>(),
                                              dx.data<float>(), v);
    } else {
      MT_GPU(cross_entropy_forward<int64_t>)(n, c, x.data<float>(), labels.data<int64_t>(),
                                             lse.data<double>(), loss.data<float>(), v);
    }
  });
  const double logits_bytes = double(n * c) * sizeof(float), row_bytes = double(n) * 16.0;
  bench::set_bytes_rate(state, (backward ? 2.0 : 1.0) * logits_bytes + row_bytes);
  state.SetLabel(cat(backward ? "backward [" : "forward [", n, ", ", c, "]"));
}
BENCHMARK(BM_CrossEntropy)
    ->ArgNames({"v", "size", "backward"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}, {0, 1}})
    ->UseManualTime();

void BM_CrossEntropySoft(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::CrossEntropyVersion(state.range(0));
  const auto [n, c] = kLogits[size_t(state.range(1))];
  const bool backward = state.range(2) != 0;
  const Tensor x = gpu_random({n, c}, 1, -4, 4), t = gpu_random({n, c}, 2, 0, 0.002f);
  const Tensor dloss = Tensor::ones({1}, DType::F32, Device::cuda());
  Tensor lse = gpu_empty({n}, DType::F64), loss = gpu_empty({1}), dx = gpu_empty({n, c});
  MT_GPU(cross_entropy_soft_forward)(n, c, x.data<float>(), t.data<float>(), lse.data<double>(),
                                     loss.data<float>(), v);
  bench::time_gpu(state, [&] {
    if (backward) {
      MT_GPU(cross_entropy_soft_backward)(n, c, x.data<float>(), t.data<float>(),
                                          lse.data<double>(), dloss.data<float>(),
                                          dx.data<float>(), nullptr, v);
    } else {
      MT_GPU(cross_entropy_soft_forward)(n, c, x.data<float>(), t.data<float>(),
                                         lse.data<double>(), loss.data<float>(), v);
    }
  });
  const double logits_bytes = double(n * c) * sizeof(float);
  bench::set_bytes_rate(state, (backward ? 3.0 : 2.0) * logits_bytes + double(n) * 8.0);
  state.SetLabel(cat(backward ? "backward dlogits [" : "forward [", n, ", ", c, "]"));
}
BENCHMARK(BM_CrossEntropySoft)
    ->ArgNames({"v", "size", "backward"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}, {0, 1}})
    ->UseManualTime();

// kl_div(log_q, p) and bce_with_logits(x, y) forwards: the fixed-chunk sums.
void BM_KlDivForward(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::KlDivVersion(state.range(0));
  const auto [n, c] = kLogits[size_t(state.range(1))];
  const Tensor lq = gpu_random({n, c}, 1, -9, -5), p = gpu_random({n, c}, 2, 0, 0.002f);
  Tensor loss = gpu_empty({1});
  bench::time_gpu(state, [&] {
    MT_GPU(kl_div_forward)(n * c, n, lq.data<float>(), p.data<float>(), loss.data<float>(), v);
  });
  bench::set_bytes_rate(state, 2.0 * double(n * c) * sizeof(float));
  state.SetLabel(cat("[", n, ", ", c, "]"));
}
BENCHMARK(BM_KlDivForward)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}})
    ->UseManualTime();

void BM_BceForward(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto v = gpu::BceWithLogitsVersion(state.range(0));
  const auto [n, c] = kLogits[size_t(state.range(1))];
  const Tensor x = gpu_random({n, c}, 1, -6, 6), y = gpu_random({n, c}, 2, 0, 1);
  Tensor loss = gpu_empty({1});
  bench::time_gpu(state, [&] {
    MT_GPU(bce_with_logits_forward)(n * c, x.data<float>(), y.data<float>(), loss.data<float>(), v);
  });
  bench::set_bytes_rate(state, 2.0 * double(n * c) * sizeof(float));
  state.SetLabel(cat("[", n, ", ", c, "]"));
}
BENCHMARK(BM_BceForward)
    ->ArgNames({"v", "size"})
    ->ArgsProduct({{1, 2}, {0, 1, 2, 3}})
    ->UseManualTime();

// The elementwise backwards (one version each).
void BM_LossBackwards(benchmark::State& state) {
  if (!bench::gpu_ready(state) || !bench::emulator_allows(state, state.range(1) == 0)) return;
  const auto [n, c] = kLogits[size_t(state.range(0))];
  const bool kl = state.range(1) == 0;
  const Tensor a = gpu_random({n, c}, 1, -6, -1), b = gpu_random({n, c}, 2, 0, 0.002f);
  const Tensor dloss = Tensor::ones({1}, DType::F32, Device::cuda());
  Tensor da = gpu_empty({n, c}), db = gpu_empty({n, c});
  bench::time_gpu(state, [&] {
    if (kl) {
      MT_GPU(kl_div_backward)(n * c, n, a.data<float>(), b.data<float>(), dloss.data<float>(),
                              da.data<float>(), db.data<float>());
    } else {
      MT_GPU(bce_with_logits_backward)(n * c, a.data<float>(), b.data<float>(),
                                       dloss.data<float>(), da.data<float>(), db.data<float>());
    }
  });
  bench::set_bytes_rate(state, 4.0 * double(n * c) * sizeof(float));
  state.SetLabel(cat(kl ? "kl_div" : "bce_with_logits", " backward [", n, ", ", c, "]"));
}
BENCHMARK(BM_LossBackwards)
    ->ArgNames({"size", "bce"})
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
