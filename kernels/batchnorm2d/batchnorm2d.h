// Batch normalisation over the channels of an NCHW image (Ioffe & Szegedy 2015).
//
// Overwritten: y, save_mean, save_invstd, dx, and running_mean / running_var
// when they are updated (in place, as PyTorch does). Accumulated (+=): dweight
// and dbias, the parameter gradients.
//
// Per-channel sums are accumulated in double, one channel per thread, in a
// fixed order (n, then h*w), so every result is bitwise identical for any
// thread count.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [N, C, H, W] seen as N planes of C channels of hw = H * W contiguous values.
struct BatchNorm2dShape {
  int64_t n = 0;
  int64_t c = 0;
  int64_t hw = 0;
};

// Training forward. x, y: [N, C, H, W]; weight, bias, save_mean, save_invstd: [C].
// mean and biased variance var of each channel over the N * H * W values;
// y = (x - mean) * invstd * weight + bias with invstd = 1 / sqrt(var + eps).
// save_mean and save_invstd keep mean and invstd for the backward pass.
// running_mean, running_var: [C] or both null. When given, they are updated as
//   running = (1 - momentum) * running + momentum * batch
// with the unbiased variance var * M / (M - 1), M = N * H * W (needs M > 1).
template <class T>
void batchnorm2d_forward_train(const BatchNorm2dShape& s, const T* x, const T* weight,
                               const T* bias, double momentum, double eps, T* y, T* save_mean,
                               T* save_invstd, T* running_mean, T* running_var);

// Evaluation forward. x, y: [N, C, H, W]; weight, bias, running_mean,
// running_var, save_invstd: [C]. y = (x - running_mean) * invstd * weight + bias,
// invstd = 1 / sqrt(running_var + eps), which is written to save_invstd.
template <class T>
void batchnorm2d_forward_eval(const BatchNorm2dShape& s, const T* x, const T* weight, const T* bias,
                              const T* running_mean, const T* running_var, double eps, T* y,
                              T* save_invstd);

// Backward. x, dy, dx: [N, C, H, W]; mean, invstd, weight, dweight, dbias: [C]
// (mean and invstd as the forward used them). With xhat = (x - mean) * invstd:
//   dbias += sum(dy), dweight += sum(dy * xhat)   (sums over N, H, W)
// batch_stats = false (evaluation: mean and invstd are constants):
//   dx = dy * weight * invstd
// batch_stats = true (training: mean and invstd depend on x):
//   dx = weight * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
template <class T>
void batchnorm2d_backward(const BatchNorm2dShape& s, bool batch_stats, const T* x, const T* dy,
                          const T* mean, const T* invstd, const T* weight, T* dx, T* dweight,
                          T* dbias);

}  // namespace medtex::cpu
