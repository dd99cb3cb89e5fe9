// softmax, log_softmax and the losses (cross_entropy with int32 / int64
// labels, cross_entropy_soft, kl_div, bce_with_logits) on the GPU backends
// against their CPU twins: every launcher and kernel version, forward and
// backward, then the engine ops with autograd on the device.
//
// `exact` comparisons (cpu_twin_match.h) are bitwise under the emulator and
// fall back to the tolerance on a GPU; they are claimed where a version does
// the CPU's arithmetic in the CPU's order (v1 everywhere; v2 where it keeps
// v1's kernel or is elementwise). Where the order of a sum differs (v2's
// shuffle trees) or on a GPU (CUDA's exp/log within 1-2 ulp of glibc's,
// nvcc's fused multiply-adds), the tolerances below, each with its reason:
//   softmax y in [0, 1]: a float exp ulp or two and a double-sum order:
//     atol 1e-6, rtol 1e-5;
//   log_softmax y ~ -10..0: atol 1e-5, rtol 1e-5;
//   backwards: dx = (dy - dot) * y: dot sums up to 1500 terms of [-1, 1];
//     an ulp of exp(y) times |dot| <= 40: atol 5e-5, rtol 1e-5;
//   losses: double row sums, rounded once to float: atol 1e-6, rtol 1e-6;
//   lse (double): rtol 1e-12 (double exp/log within an ulp, sums of <= 1500);
//   loss gradients: one double expression rounded to float: atol 1e-7, rtol 1e-6.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/bce_with_logits/bce_with_logits.h"
#include "kernels/bce_with_logits/bce_with_logits_cuda.h"
#include "kernels/cross_entropy/cross_entropy.h"
#include "kernels/cross_entropy/cross_entropy_cuda.h"
#include "kernels/kl_div/kl_div.h"
#include "kernels/kl_div/kl_div_cuda.h"
#include "kernels/softmax/softmax.h"
#include "kernels/softmax/softmax_cuda.h"
#include "tests/cuda/cpu_twin_match.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class SoftmaxCuda : public test::GpuTest {};

Tensor gpu_zeros(const Shape& s, DType t = DType::F32) {
  return Tensor::zeros(s, t, Device::cuda());
}

// ---- softmax / log_softmax ---------------------------------------------------

using SV = gpu::SoftmaxVersion;

struct SoftmaxCase {
  int64_t outer, dim, inner;
};

// Rows of 1, 5, 33, 1000 (v2's warp path) and 1500 (its block path); strided
// rows (inner > 1: v1's kernel in both versions).
const std::vector<SoftmaxCase> kSoftmaxCases = {{3, 1, 1},    {4, 5, 1}, {3, 33, 1}, {2, 1000, 1},
                                                {2, 1500, 1}, {2, 5, 3}, {1, 33, 7}};

TEST_P(SoftmaxCuda, SoftmaxAndLogSoftmaxEveryVersionMatchCpu) {
  uint64_t seed = 1;
  for (const SoftmaxCase& c : kSoftmaxCases) {
    const cpu::SoftmaxShape s{c.outer, c.dim, c.inner};
    const Shape shape = {c.outer, c.dim, c.inner};
    const Tensor x = test::random_float(shape, ++seed, -4, 4);
    const Tensor dy = test::random_float(shape, ++seed);
    for (float inv_t : {1.f, 0.4f}) {
      for (bool log : {false, true}) {
        Tensor y = Tensor::zeros(shape), dx = Tensor::zeros(shape);
        if (log) {
          cpu::log_softmax_forward<float>(s, inv_t, x.data<float>(), y.data<float>());
          cpu::log_softmax_backward<float>(s, inv_t, y.data<float>(), dy.data<float>(),
                                           dx.data<float>());
        } else {
          cpu::softmax_forward<float>(s, inv_t, x.data<float>(), y.data<float>());
          cpu::softmax_backward<float>(s, inv_t, y.data<float>(), dy.data<float>(),
                                       dx.data<float>());
        }
        for (SV v : {SV::kV1Thread, SV::kV2Warp}) {
          SCOPED_TRACE(::testing::Message() << (log ? "log_softmax" : "softmax") << " [" << c.outer
                                            << ", " << c.dim << ", " << c.inner << "] 1/T "
                                            << inv_t << " v" << int(v));
          const auto got = test::run_all_schedules([&] {
            const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy), gy_cpu = test::to_gpu(y);
            Tensor gy = gpu_zeros(shape), gdx = gpu_zeros(shape);
            if (log) {
              MT_GPU(log_softmax_forward)(s, inv_t, gx.data<float>(), gy.data<float>(), v);
              // The backward from the CPU's y: it is checked on its own.
              MT_GPU(log_softmax_backward)(s, inv_t, gy_cpu.data<float>(), gdy.data<float>(),
                                           gdx.data<float>(), v);
            } else {
              MT_GPU(softmax_forward)(s, inv_t, gx.data<float>(), gy.data<float>(), v);
              MT_GPU(softmax_backward)(s, inv_t, gy_cpu.data<float>(), gdy.data<float>(),
                                       gdx.data<float>(), v);
            }
            return std::vector<Tensor>{gy, gdx};
          });
          const bool exact = (v == SV::kV1Thread || c.inner > 1) && emulated();
          const std::string what = std::string(log ? "log_softmax" : "softmax") + " d=" +
                                   std::to_string(c.dim) + " v" + std::to_string(int(v));
          EXPECT_TRUE(test::matches_cpu(what, got[0], y, exact, log ? 1e-5 : 1e-6, 1e-5));
          EXPECT_TRUE(test::matches_cpu(what + " backward", got[1], dx, exact, 5e-5, 1e-5));
        }
      }
    }
  }
}

TEST_P(SoftmaxCuda, NanRowsStayNanOtherRowsUntouched) {
  const float nan = std::nanf("");
  const Tensor x = Tensor::from_vector<float>({1, nan, 3, 0.5f, -1, 2}, {2, 3});
  for (SV v : {SV::kV1Thread, SV::kV2Warp}) {
    for (bool log : {false, true}) {
      const cpu::SoftmaxShape s{2, 3, 1};
      Tensor want = Tensor::zeros({2, 3});
      if (log) {
        cpu::log_softmax_forward<float>(s, 1.f, x.data<float>(), want.data<float>());
      } else {
        cpu::softmax_forward<float>(s, 1.f, x.data<float>(), want.data<float>());
      }
      const Tensor gx = test::to_gpu(x);
      Tensor gy = gpu_zeros({2, 3});
      if (log) {
        MT_GPU(log_softmax_forward)(s, 1.f, gx.data<float>(), gy.data<float>(), v);
      } else {
        MT_GPU(softmax_forward)(s, 1.f, gx.data<float>(), gy.data<float>(), v);
      }
      const auto g = gy.to_vector<float>(), w = want.to_vector<float>();
      for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(g[i]) && std::isnan(w[i])) << i;
      for (size_t i = 3; i < 6; ++i) EXPECT_NEAR(g[i], w[i], 1e-6) << i;
    }
  }
}

// ---- cross_entropy -----------------------------------------------------------

using CV = gpu::CrossEntropyVersion;
constexpr CV kCeVersions[] = {CV::kV1Thread, CV::kV2Warp};

template <class I>
Tensor labels_for(int64_t n, int64_t c, uint64_t seed) {
  std::vector<I> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = I((uint64_t(i) * 7919u + seed * 31u) % uint64_t(c));
  return Tensor::from_vector(v, {n});
}

template <class I>
void check_hard_cross_entropy(bool emulated) {
  uint64_t seed = 300;
  for (int64_t n : {1, 3, 7}) {
    for (int64_t c : {1, 5, 33, 1000, 1500}) {
      const Tensor x = test::random_float({n, c}, ++seed, -6, 6);
      const Tensor labels = labels_for<I>(n, c, seed);
      Tensor lse = Tensor::zeros({n}, DType::F64), dx = Tensor::zeros({n, c});
      const double l = cpu::cross_entropy_forward<float, I>(n, c, x.data<float>(),
                                                            labels.data<I>(), lse.data<double>());
      const Tensor loss = Tensor::full({1}, float(l));
      const float dloss = 0.7f;
      cpu::cross_entropy_backward<float, I>(n, c, x.data<float>(), labels.data<I>(),
                                            lse.data<double>(), double(dloss) / double(n),
                                            dx.data<float>());
      for (CV v : kCeVersions) {
        SCOPED_TRACE(::testing::Message() << "cross_entropy [" << n << ", " << c << "] int"
                                          << 8 * sizeof(I) << " v" << int(v));
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gl = test::to_gpu(labels),
                       glse_cpu = test::to_gpu(lse);
          const Tensor gd = test::to_gpu(Tensor::full({1}, dloss));
          Tensor glse = gpu_zeros({n}, DType::F64), gloss = gpu_zeros({1}), gdx = gpu_zeros({n, c});
          MT_GPU(cross_entropy_forward<I>)(n, c, gx.data<float>(), gl.data<I>(),
                                           glse.data<double>(), gloss.data<float>(), v);
          MT_GPU(cross_entropy_backward<I>)(n, c, gx.data<float>(), gl.data<I>(),
                                            glse_cpu.data<double>(), gd.data<float>(),
                                            gdx.data<float>(), v);
          return std::vector<Tensor>{glse, gloss, gdx};
        });
        const bool exact = v == CV::kV1Thread && emulated;
        const std::string what = "ce c=" + std::to_string(c) + " v" + std::to_string(int(v));
        EXPECT_TRUE(test::matches_cpu(what + " lse", got[0], lse, exact, 0, 1e-12));
        EXPECT_TRUE(test::matches_cpu(what + " loss", got[1], loss, exact, 1e-6, 1e-6));
        // The backward from the CPU's lse: elementwise in both versions.
        EXPECT_TRUE(test::matches_cpu(what + " dlogits", got[2], dx, emulated, 1e-7, 1e-6));
      }
    }
  }
}

TEST_P(SoftmaxCuda, CrossEntropyInt32LabelsEveryVersionMatchesCpu) {
  check_hard_cross_entropy<int32_t>(emulated());
}

TEST_P(SoftmaxCuda, CrossEntropyInt64LabelsEveryVersionMatchesCpu) {
  check_hard_cross_entropy<int64_t>(emulated());
}

TEST_P(SoftmaxCuda, BadLabelsAreFoundOnTheDeviceAndReported) {
  const Tensor labels = Tensor::from_vector<int64_t>({0, 4, 9, 1, -1, 12}, {6});
  const Tensor labels32 = Tensor::from_vector<int32_t>({0, -3, 9}, {3});
  const Tensor good = Tensor::from_vector<int32_t>({0, 4, 2}, {3});
  {
    const Tensor g = test::to_gpu(labels), g32 = test::to_gpu(labels32), gg = test::to_gpu(good);
    EXPECT_EQ(MT_GPU(cross_entropy_first_bad_label<int64_t>)(6, 5, g.data<int64_t>()), 2);
    EXPECT_EQ(MT_GPU(cross_entropy_first_bad_label<int32_t>)(3, 5, g32.data<int32_t>()), 1);
    EXPECT_EQ(MT_GPU(cross_entropy_first_bad_label<int32_t>)(3, 5, gg.data<int32_t>()), -1);
    EXPECT_EQ(MT_GPU(cross_entropy_first_bad_label<int64_t>)(6, 13, g.data<int64_t>()), 4);
  }
  const Tensor logits = test::to_gpu(test::random_float({6, 5}, 3));
  try {
    (void)ops::cross_entropy(logits, test::to_gpu(labels));
    ADD_FAILURE() << "no error for label 9 of 5 classes";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("label 9 in row 2 is out of range for 5 classes"), std::string::npos) << m;
  }
}

TEST_P(SoftmaxCuda, CrossEntropySoftEveryVersionMatchesCpu) {
  uint64_t seed = 500;
  for (int64_t n : {1, 3, 7}) {
    for (int64_t c : {1, 5, 33, 1000, 1500}) {
      const Tensor x = test::random_float({n, c}, ++seed, -6, 6);
      // Rows that do not sum to one (a partial label): the backward's sum_k t.
      const Tensor t = test::random_float({n, c}, ++seed, 0, 0.01);
      Tensor lse = Tensor::zeros({n}, DType::F64);
      Tensor dx = Tensor::zeros({n, c}), dt = Tensor::zeros({n, c});
      const double l = cpu::cross_entropy_soft_forward<float>(n, c, x.data<float>(),
                                                              t.data<float>(), lse.data<double>());
      const Tensor loss = Tensor::full({1}, float(l));
      const float dloss = -1.25f;
      cpu::cross_entropy_soft_backward<float>(n, c, x.data<float>(), t.data<float>(),
                                              lse.data<double>(), double(dloss) / double(n),
                                              dx.data<float>(), dt.data<float>());
      for (CV v : kCeVersions) {
        for (int outputs : {3, 1, 2}) {  // both gradients, dlogits only, dtarget only
          SCOPED_TRACE(::testing::Message() << "cross_entropy_soft [" << n << ", " << c << "] v"
                                            << int(v) << " outputs " << outputs);
          const auto got = test::run_all_schedules([&] {
            const Tensor gx = test::to_gpu(x), gt = test::to_gpu(t), glse_cpu = test::to_gpu(lse);
            const Tensor gd = test::to_gpu(Tensor::full({1}, dloss));
            Tensor glse = gpu_zeros({n}, DType::F64), gloss = gpu_zeros({1});
            Tensor gdx = gpu_zeros({n, c}), gdt = gpu_zeros({n, c});
            MT_GPU(cross_entropy_soft_forward)(n, c, gx.data<float>(), gt.data<float>(),
                                               glse.data<double>(), gloss.data<float>(), v);
            MT_GPU(cross_entropy_soft_backward)(n, c, gx.data<float>(), gt.data<float>(),
                                                glse_cpu.data<double>(), gd.data<float>(),
                                                outputs & 1 ? gdx.data<float>() : nullptr,
                                                outputs & 2 ? gdt.data<float>() : nullptr, v);
            return std::vector<Tensor>{glse, gloss, gdx, gdt};
          });
          const bool exact = v == CV::kV1Thread && emulated();
          const std::string what = "ce_soft c=" + std::to_string(c) + " v" + std::to_string(int(v));
          EXPECT_TRUE(test::matches_cpu(what + " lse", got[0], lse, exact, 0, 1e-12));
          EXPECT_TRUE(test::matches_cpu(what + " loss", got[1], loss, exact, 1e-6, 1e-6));
          const Tensor zero = Tensor::zeros({n, c});
          EXPECT_TRUE(test::matches_cpu(what + " dlogits", got[2], outputs & 1 ? dx : zero, exact,
                                        1e-7, 1e-6));
          EXPECT_TRUE(test::matches_cpu(what + " dtarget", got[3], outputs & 2 ? dt : zero,
                                        emulated(), 1e-7, 1e-6));
        }
      }
    }
  }
}

// ---- kl_div and bce_with_logits ----------------------------------------------

// n = 9000: three 4096-element chunks, the last one partial.
constexpr int64_t kLossSizes[] = {1, 37, 9000};

TEST_P(SoftmaxCuda, KlDivEveryVersionMatchesCpu) {
  uint64_t seed = 700;
  for (int64_t n : kLossSizes) {
    const int64_t batch = n == 9000 ? 9 : 1;
    std::vector<float> lq = test::random_float({n}, ++seed, -8, 0).to_vector<float>();
    std::vector<float> p = test::random_float({n}, ++seed, 0, 1).to_vector<float>();
    for (size_t i = 0; i < p.size(); i += 5) p[i] = 0.f;  // p == 0: no term, dp = 0
    for (size_t i = 0; i < p.size(); i += 10) lq[i] = -std::numeric_limits<float>::infinity();
    const Tensor log_q = Tensor::from_vector(lq, {n}), pt = Tensor::from_vector(p, {n});
    const double l = cpu::kl_div_forward<float>(n, batch, log_q.data<float>(), pt.data<float>());
    const Tensor loss = Tensor::full({1}, float(l));
    const float dloss = 1.3f;
    Tensor dlq = Tensor::zeros({n}), dp = Tensor::zeros({n});
    cpu::kl_div_backward<float>(n, log_q.data<float>(), pt.data<float>(),
                                double(dloss) / double(batch), dlq.data<float>(), dp.data<float>());
    for (gpu::KlDivVersion v : {gpu::KlDivVersion::kV1Chunk, gpu::KlDivVersion::kV2Block}) {
      SCOPED_TRACE(::testing::Message() << "kl_div n=" << n << " v" << int(v));
      const auto got = test::run_all_schedules([&] {
        const Tensor glq = test::to_gpu(log_q), gp = test::to_gpu(pt);
        const Tensor gd = test::to_gpu(Tensor::full({1}, dloss));
        Tensor gloss = gpu_zeros({1}), gdlq = gpu_zeros({n}), gdp = gpu_zeros({n});
        MT_GPU(kl_div_forward)(n, batch, glq.data<float>(), gp.data<float>(),
                               gloss.data<float>(), v);
        MT_GPU(kl_div_backward)(n, batch, glq.data<float>(), gp.data<float>(), gd.data<float>(),
                                gdlq.data<float>(), gdp.data<float>());
        return std::vector<Tensor>{gloss, gdlq, gdp};
      });
      const bool exact = v == gpu::KlDivVersion::kV1Chunk && emulated();
      const std::string what = "kl_div n=" + std::to_string(n) + " v" + std::to_string(int(v));
      EXPECT_TRUE(test::matches_cpu(what, got[0], loss, exact, 1e-6, 1e-6));
      EXPECT_TRUE(test::matches_cpu(what + " dlog_q", got[1], dlq, emulated(), 1e-7, 1e-6));
      EXPECT_TRUE(test::matches_cpu(what + " dp", got[2], dp, emulated(), 1e-7, 1e-6));
    }
  }
}

TEST_P(SoftmaxCuda, KlDivNegativeProbabilityGivesNan) {
  const Tensor lq = test::to_gpu(Tensor::from_vector<float>({-1, -2}, {1, 2}));
  const Tensor p = test::to_gpu(Tensor::from_vector<float>({0.5f, -0.1f}, {1, 2}));
  EXPECT_TRUE(std::isnan(ops::kl_div(lq, p).item()));
}

TEST_P(SoftmaxCuda, BceWithLogitsEveryVersionMatchesCpu) {
  uint64_t seed = 900;
  for (int64_t n : kLossSizes) {
    std::vector<float> x = test::random_float({n}, ++seed, -30, 30).to_vector<float>();
    for (size_t i = 0; i < x.size(); i += 7) x[i] = i % 2 ? 100.f : -100.f;  // saturated
    const Tensor xt = Tensor::from_vector(x, {n}), yt = test::random_float({n}, ++seed, 0, 1);
    const double l = cpu::bce_with_logits_forward<float>(n, xt.data<float>(), yt.data<float>());
    const Tensor loss = Tensor::full({1}, float(l));
    const float dloss = 0.9f;
    Tensor dx = Tensor::zeros({n}), dy = Tensor::zeros({n});
    cpu::bce_with_logits_backward<float>(n, xt.data<float>(), yt.data<float>(),
                                         double(dloss) / double(n), dx.data<float>(),
                                         dy.data<float>());
    for (auto v : {gpu::BceWithLogitsVersion::kV1Chunk, gpu::BceWithLogitsVersion::kV2Block}) {
      SCOPED_TRACE(::testing::Message() << "bce n=" << n << " v" << int(v));
      const auto got = test::run_all_schedules([&] {
        const Tensor gx = test::to_gpu(xt), gy = test::to_gpu(yt);
        const Tensor gd = test::to_gpu(Tensor::full({1}, dloss));
        Tensor gloss = gpu_zeros({1}), gdx = gpu_zeros({n}), gdy = gpu_zeros({n});
        MT_GPU(bce_with_logits_forward)(n, gx.data<float>(), gy.data<float>(), gloss.data<float>(),
                                        v);
        MT_GPU(bce_with_logits_backward)(n, gx.data<float>(), gy.data<float>(), gd.data<float>(),
                                         gdx.data<float>(), gdy.data<float>());
        return std::vector<Tensor>{gloss, gdx, gdy};
      });
      const bool exact = v == gpu::BceWithLogitsVersion::kV1Chunk && emulated();
      const std::string what = "bce n=" + std::to_string(n) + " v" + std::to_string(int(v));
      EXPECT_TRUE(test::matches_cpu(what, got[0], loss, exact, 1e-6, 1e-6));
      EXPECT_TRUE(test::matches_cpu(what + " dx", got[1], dx, emulated(), 1e-7, 1e-6));
      EXPECT_TRUE(test::matches_cpu(what + " dy", got[2], dy, emulated(), 1e-7, 1e-6));
    }
  }
}

// ---- the engine ops with autograd --------------------------------------------

TEST_P(SoftmaxCuda, SoftmaxOpsWithAutogradMatchCpu) {
  const Tensor x = test::random_float({2, 3, 5, 7}, 41, -3, 3);
  for (int dim : {-1, 1}) {
    for (double temperature : {1.0, 2.5}) {
      for (bool log : {false, true}) {
        SCOPED_TRACE(::testing::Message() << (log ? "log_softmax" : "softmax") << " dim " << dim
                                          << " T " << temperature);
        auto f = [&](const Tensor& t) {
          return log ? ops::log_softmax(t, dim, temperature) : ops::softmax(t, dim, temperature);
        };
        Tensor xc = x.copy().set_requires_grad();
        const Tensor yc = f(xc);
        const Tensor dy = test::random_float(yc.shape(), 43);
        yc.backward(dy);
        const auto got = test::run_all_schedules([&] {
          Tensor xg = test::to_gpu(x).set_requires_grad();
          const Tensor y = f(xg);
          y.backward(test::to_gpu(dy));
          return std::vector<Tensor>{y, xg.grad()};
        });
        EXPECT_TRUE(test::matches_cpu("op", got[0], yc, false, log ? 1e-5 : 1e-6, 1e-5));
        EXPECT_TRUE(test::matches_cpu("op backward", got[1], xc.grad(), false, 5e-5, 1e-5));
      }
    }
  }
}

template <class I>
void check_cross_entropy_op() {
  const Tensor x = test::random_float({5, 7}, 61, -3, 3);
  const Tensor labels = labels_for<I>(5, 7, 2);
  Tensor xc = x.copy().set_requires_grad();
  const Tensor lc = ops::cross_entropy(xc, labels);
  lc.backward();
  const auto got = test::run_all_schedules([&] {
    Tensor xg = test::to_gpu(x).set_requires_grad();
    const Tensor l = ops::cross_entropy(xg, test::to_gpu(labels));
    l.backward();
    return std::vector<Tensor>{l, xg.grad()};
  });
  EXPECT_TRUE(test::matches_cpu("cross_entropy op", got[0], lc, false, 1e-6, 1e-6));
  EXPECT_TRUE(test::matches_cpu("cross_entropy op grad", got[1], xc.grad(), false, 1e-7, 1e-6));
}

TEST_P(SoftmaxCuda, CrossEntropyOpWithAutogradMatchesCpu) {
  check_cross_entropy_op<int32_t>();
  check_cross_entropy_op<int64_t>();
}

TEST_P(SoftmaxCuda, SoftTargetLossesWithAutogradMatchCpu) {
  const Tensor s = test::random_float({4, 10}, 71, -3, 3),
               t = test::random_float({4, 10}, 72, -3, 3);
  // Distillation's KL term and a soft cross-entropy, gradients to both inputs
  // through softmax / log_softmax at temperature 2.
  auto losses = [](const Tensor& a, const Tensor& b) {
    const Tensor kl = ops::kl_div(ops::log_softmax(a, -1, 2.0), ops::softmax(b, -1, 2.0));
    const Tensor ce = ops::cross_entropy_soft(a, ops::softmax(b, -1, 1.0));
    return std::vector<Tensor>{kl, ce};
  };
  Tensor sc = s.copy().set_requires_grad(), tc = t.copy().set_requires_grad();
  const auto lc = losses(sc, tc);
  ops::add(lc[0], ops::mul_scalar(lc[1], 0.5)).backward();
  const auto got = test::run_all_schedules([&] {
    Tensor sg = test::to_gpu(s).set_requires_grad(), tg = test::to_gpu(t).set_requires_grad();
    const auto l = losses(sg, tg);
    ops::add(l[0], ops::mul_scalar(l[1], 0.5)).backward();
    return std::vector<Tensor>{l[0], l[1], sg.grad(), tg.grad()};
  });
  EXPECT_TRUE(test::matches_cpu("kl op", got[0], lc[0], false, 1e-6, 1e-6));
  EXPECT_TRUE(test::matches_cpu("ce_soft op", got[1], lc[1], false, 1e-6, 1e-6));
  EXPECT_TRUE(test::matches_cpu("kl+ce grad s", got[2], sc.grad(), false, 1e-6, 1e-5));
  EXPECT_TRUE(test::matches_cpu("kl+ce grad t", got[3], tc.grad(), false, 1e-6, 1e-5));
}

TEST_P(SoftmaxCuda, BceOpWithAutogradMatchesCpu) {
  const Tensor x = test::random_float({3, 11}, 81, -5, 5),
               y = test::random_float({3, 11}, 82, 0, 1);
  Tensor xc = x.copy().set_requires_grad(), yc = y.copy().set_requires_grad();
  const Tensor lc = ops::bce_with_logits(xc, yc);
  lc.backward();
  const auto got = test::run_all_schedules([&] {
    Tensor xg = test::to_gpu(x).set_requires_grad(), yg = test::to_gpu(y).set_requires_grad();
    const Tensor l = ops::bce_with_logits(xg, yg);
    l.backward();
    return std::vector<Tensor>{l, xg.grad(), yg.grad()};
  });
  EXPECT_TRUE(test::matches_cpu("bce op", got[0], lc, false, 1e-6, 1e-6));
  EXPECT_TRUE(test::matches_cpu("bce op dx", got[1], xc.grad(), false, 1e-7, 1e-6));
  EXPECT_TRUE(test::matches_cpu("bce op dy", got[2], yc.grad(), false, 1e-7, 1e-6));
}

MT_GPU_TEST_SUITE(SoftmaxCuda);

}  // namespace
}  // namespace medtex
