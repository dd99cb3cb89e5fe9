// softmax / log_softmax (forward and backward, along the last dim, at the
// distillation temperature T = 2) on rows of 5 (the DR grades), 64 (the
// explainer's patches, one row per Gumbel sample) and 1000 (an ImageNet-sized
// head), and the losses built on them at batch 256: cross-entropy with hard
// labels and with soft targets, KL divergence and BCE with logits, forward and
// backward, on 5 and on 1000 classes.
// Rated in GB/s like the other elementwise ops (every input read once, every
// output written once, including the int64 labels and the double log-sum-exp
// the cross-entropy forward keeps for its backward), although at these sizes
// the data sits in cache and what limits is the exp / log per element, or the
// per-row overhead on rows of 5.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "bench/kernels/bench_util.h"
#include "kernels/bce_with_logits/bce_with_logits.h"
#include "kernels/cross_entropy/cross_entropy.h"
#include "kernels/kl_div/kl_div.h"
#include "kernels/softmax/softmax.h"

namespace {

using medtex::bench::random_vec;
using medtex::bench::set_bytes_rate;
using medtex::bench::shape_label;
using medtex::cpu::SoftmaxShape;

constexpr float kInvTemperature = 0.5f;  // T_kd = 2

// Logits spread like a trained net's (a few units), not like U(-0.5, 0.5).
std::vector<float> logits(int64_t n, unsigned seed) {
  return random_vec(n, seed, -4.0f, 4.0f);
}

SoftmaxShape rows(benchmark::State& state) {
  const int64_t r = state.range(0), d = state.range(1);
  state.SetLabel(shape_label({r, d}));
  return {r, d, 1};
}

double numel_bytes(const SoftmaxShape& s, int tensors) {
  return double(tensors) * double(s.outer * s.dim * s.inner) * sizeof(float);
}

void BM_SoftmaxForward(benchmark::State& state) {
  const SoftmaxShape s = rows(state);
  const auto x = logits(s.outer * s.dim, 1);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    medtex::cpu::softmax_forward<float>(s, kInvTemperature, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, numel_bytes(s, 2));
}

void BM_SoftmaxBackward(benchmark::State& state) {
  const SoftmaxShape s = rows(state);
  const auto x = logits(s.outer * s.dim, 1), dy = random_vec(s.outer * s.dim, 2);
  std::vector<float> y(x.size()), dx(x.size());
  medtex::cpu::softmax_forward<float>(s, kInvTemperature, x.data(), y.data());
  for (auto _ : state) {
    medtex::cpu::softmax_backward<float>(s, kInvTemperature, y.data(), dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, numel_bytes(s, 3));
}

void BM_LogSoftmaxForward(benchmark::State& state) {
  const SoftmaxShape s = rows(state);
  const auto x = logits(s.outer * s.dim, 1);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    medtex::cpu::log_softmax_forward<float>(s, kInvTemperature, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, numel_bytes(s, 2));
}

void BM_LogSoftmaxBackward(benchmark::State& state) {
  const SoftmaxShape s = rows(state);
  const auto x = logits(s.outer * s.dim, 1), dy = random_vec(s.outer * s.dim, 2);
  std::vector<float> y(x.size()), dx(x.size());
  medtex::cpu::log_softmax_forward<float>(s, kInvTemperature, x.data(), y.data());
  for (auto _ : state) {
    medtex::cpu::log_softmax_backward<float>(s, kInvTemperature, y.data(), dy.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, numel_bytes(s, 3));
}

// ---- losses at batch 256; the argument is the number of classes ------------
constexpr int64_t kBatch = 256;

int64_t classes(benchmark::State& state) {
  state.SetLabel(shape_label({kBatch, state.range(0)}));
  return state.range(0);
}

std::vector<int64_t> labels(int64_t c) {
  std::vector<int64_t> l(static_cast<size_t>(kBatch));
  for (int64_t i = 0; i < kBatch; ++i) l[size_t(i)] = (i * 7 + 3) % c;
  return l;
}

// Soft targets / probabilities: positive rows summing to 1.
std::vector<float> probabilities(int64_t c, unsigned seed) {
  auto p = random_vec(kBatch * c, seed, 0.05f, 1.0f);
  for (int64_t i = 0; i < kBatch; ++i) {
    float sum = 0;
    for (int64_t k = 0; k < c; ++k) sum += p[size_t(i * c + k)];
    for (int64_t k = 0; k < c; ++k) p[size_t(i * c + k)] /= sum;
  }
  return p;
}

// Hard labels: logits [256, c] float, labels [256] int64, lse [256] double.
double ce_bytes(int64_t c, int logit_tensors) {
  return double(logit_tensors) * double(kBatch * c) * sizeof(float) +
         double(kBatch) * (sizeof(int64_t) + sizeof(double));
}

void BM_CrossEntropyForward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto x = logits(kBatch * c, 1);
  const auto l = labels(c);
  std::vector<double> lse(static_cast<size_t>(kBatch));
  for (auto _ : state) {
    double loss = medtex::cpu::cross_entropy_forward<float, int64_t>(kBatch, c, x.data(), l.data(),
                                                                     lse.data());
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, ce_bytes(c, 1));
}

void BM_CrossEntropyBackward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto x = logits(kBatch * c, 1);
  const auto l = labels(c);
  std::vector<double> lse(static_cast<size_t>(kBatch));
  std::vector<float> dx(x.size());
  medtex::cpu::cross_entropy_forward<float, int64_t>(kBatch, c, x.data(), l.data(), lse.data());
  for (auto _ : state) {
    medtex::cpu::cross_entropy_backward<float, int64_t>(kBatch, c, x.data(), l.data(), lse.data(),
                                                        1.0 / kBatch, dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, ce_bytes(c, 2));
}

// Soft targets (the teacher's probabilities): logits and target [256, c].
void BM_CrossEntropySoftForward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto x = logits(kBatch * c, 1), t = probabilities(c, 2);
  std::vector<double> lse(static_cast<size_t>(kBatch));
  for (auto _ : state) {
    double loss =
        medtex::cpu::cross_entropy_soft_forward<float>(kBatch, c, x.data(), t.data(), lse.data());
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 2.0 * double(kBatch * c) * sizeof(float) + kBatch * sizeof(double));
}

// The gradient of the logits only: the teacher's targets are constants.
void BM_CrossEntropySoftBackward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto x = logits(kBatch * c, 1), t = probabilities(c, 2);
  std::vector<double> lse(static_cast<size_t>(kBatch));
  std::vector<float> dx(x.size());
  medtex::cpu::cross_entropy_soft_forward<float>(kBatch, c, x.data(), t.data(), lse.data());
  for (auto _ : state) {
    medtex::cpu::cross_entropy_soft_backward<float>(kBatch, c, x.data(), t.data(), lse.data(),
                                                    1.0 / kBatch, dx.data(), nullptr);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 3.0 * double(kBatch * c) * sizeof(float) + kBatch * sizeof(double));
}

// KL(p || q) with log_q a log-softmax output and p probabilities, [256, c].
std::vector<float> log_probabilities(int64_t c, unsigned seed) {
  auto q = probabilities(c, seed);
  for (auto& v : q) v = std::log(v);
  return q;
}

void BM_KlDivForward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto log_q = log_probabilities(c, 1), p = probabilities(c, 2);
  for (auto _ : state) {
    double loss = medtex::cpu::kl_div_forward<float>(kBatch * c, kBatch, log_q.data(), p.data());
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 2.0 * double(kBatch * c) * sizeof(float));
}

// Both gradients: MED-TEX's prior term KL(softmax(e) || uniform) differentiates
// through p, the distillation term through log_q.
void BM_KlDivBackward(benchmark::State& state) {
  const int64_t c = classes(state);
  const auto log_q = log_probabilities(c, 1), p = probabilities(c, 2);
  std::vector<float> dlog_q(p.size()), dp(p.size());
  for (auto _ : state) {
    medtex::cpu::kl_div_backward<float>(kBatch * c, log_q.data(), p.data(), 1.0 / kBatch,
                                        dlog_q.data(), dp.data());
    benchmark::DoNotOptimize(dlog_q.data());
    benchmark::DoNotOptimize(dp.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 4.0 * double(kBatch * c) * sizeof(float));
}

// Multi-label BCE: logits and 0/1 targets [256, c].
std::vector<float> binary_targets(int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[size_t(i)] = float((i * 2654435761u >> 7) & 1);
  return y;
}

void BM_BceWithLogitsForward(benchmark::State& state) {
  const int64_t n = kBatch * classes(state);
  const auto x = logits(n, 1), y = binary_targets(n);
  for (auto _ : state) {
    double loss = medtex::cpu::bce_with_logits_forward<float>(n, x.data(), y.data());
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 2.0 * double(n) * sizeof(float));
}

// The gradient of the logits only: labels are constants.
void BM_BceWithLogitsBackward(benchmark::State& state) {
  const int64_t n = kBatch * classes(state);
  const auto x = logits(n, 1), y = binary_targets(n);
  std::vector<float> dx(static_cast<size_t>(n));
  for (auto _ : state) {
    medtex::cpu::bce_with_logits_backward<float>(n, x.data(), y.data(), 1.0 / double(n), dx.data(),
                                                 nullptr);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  set_bytes_rate(state, 3.0 * double(n) * sizeof(float));
}

void softmax_rows(benchmark::internal::Benchmark* b) {
  b->Args({256, 5})->Args({256, 64})->Args({256, 1000})->Args({4096, 64});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void loss_classes(benchmark::internal::Benchmark* b) {
  b->Arg(5)->Arg(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_SoftmaxForward)->Apply(softmax_rows);
BENCHMARK(BM_SoftmaxBackward)->Apply(softmax_rows);
BENCHMARK(BM_LogSoftmaxForward)->Apply(softmax_rows);
BENCHMARK(BM_LogSoftmaxBackward)->Apply(softmax_rows);
BENCHMARK(BM_CrossEntropyForward)->Apply(loss_classes);
BENCHMARK(BM_CrossEntropyBackward)->Apply(loss_classes);
BENCHMARK(BM_CrossEntropySoftForward)->Apply(loss_classes);
BENCHMARK(BM_CrossEntropySoftBackward)->Apply(loss_classes);
BENCHMARK(BM_KlDivForward)->Apply(loss_classes);
BENCHMARK(BM_KlDivBackward)->Apply(loss_classes);
BENCHMARK(BM_BceWithLogitsForward)->Apply(loss_classes);
BENCHMARK(BM_BceWithLogitsBackward)->Apply(loss_classes);

}  // namespace

BENCHMARK_MAIN();
