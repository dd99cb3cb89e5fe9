// CUDA twins of cross_entropy.h (float32 logits and targets, int32 or int64
// labels, device pointers). Same contract, two differences that keep a
// training step free of host synchronisations:
//   * the forward writes the loss to a device float (loss[0] = float(mean)),
//     as the engine stores it, instead of returning a double;
//   * the backward reads dloss from the device and forms scale = dloss / n
//     there (the CPU twin takes that scale, computed on the host).
// lse: [n] doubles on the device, as on the CPU. A null gradient pointer
// skips that output.
//
// Labels: cross_entropy_first_bad_label checks them on the device (one
// integer atomicMin of the first bad row, then an 8-byte copy back) before
// any compute; the forward kernels also refuse to read a logit through a bad
// label (they write a NaN row loss instead).
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class CrossEntropyVersion {
  // Forwards, and the soft backward: one thread per row, the CPU loop, then
  // one thread adding the row losses in row order (sum_partials v1): the
  // CPU's order everywhere. Hard backward: one thread per row.
  kV1Thread = 1,
  // Forwards and the soft backward: a warp per row (c <= 1024) or a
  // 256-thread block per row, max and sums by fixed shuffle trees, then a
  // one-block tree over the row losses (sum_partials v2). Hard backward: one
  // thread per logit (coalesced).
  kV2Warp = 2,
};
inline constexpr CrossEntropyVersion kCrossEntropyDefault = CrossEntropyVersion::kV2Warp;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // labels: [n] on the device. The first row whose label is outside [0, c), or -1.
  template <class I>
  int64_t cross_entropy_first_bad_label(int64_t n, int64_t c, const I* labels);
  // logits: [n, c], labels: [n], lse: [n] (written), loss: [1] (written).
  template <class I>
  void cross_entropy_forward(int64_t n, int64_t c, const float* logits, const I* labels,
                             double* lse, float* loss, CrossEntropyVersion v);
  // dloss: [1]; dlogits: [n, c] = (dloss / n) * (softmax - onehot(labels)).
  template <class I>
  void cross_entropy_backward(int64_t n, int64_t c, const float* logits, const I* labels,
                              const double* lse, const float* dloss, float* dlogits,
                              CrossEntropyVersion v);
  // logits, target: [n, c]; lse: [n] (written); loss: [1] (written).
  void cross_entropy_soft_forward(int64_t n, int64_t c, const float* logits, const float* target,
                                  double* lse, float* loss, CrossEntropyVersion v);
  // dlogits, dtarget: [n, c] or null.
  void cross_entropy_soft_backward(int64_t n, int64_t c, const float* logits, const float* target,
                                   const double* lse, const float* dloss, float* dlogits,
                                   float* dtarget, CrossEntropyVersion v);
)
