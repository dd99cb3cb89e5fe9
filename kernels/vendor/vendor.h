// The vendor path: cuBLAS GEMM and cuDNN convolution and batch norm, for
// side-by-side checks and benchmarks of the handwritten kernels on a real GPU.
//
// The libraries are loaded with dlopen when first selected, never linked: a
// medtex binary starts, and runs on the handwritten kernels or the CPU, on a
// machine that has neither. `--kernels vendor` (select(kVendor)) makes the
// engine's gemm-based ops (linear), conv2d and batchnorm2d call these instead
// of the handwritten kernels; everything else stays handwritten.
//
// Semantics mirror the CPU twins (kernels/gemm/gemm.h, conv2d/conv2d.h,
// batchnorm2d/batchnorm2d.h), including which outputs accumulate. Both
// libraries run in strict FP32 (cuBLAS's default math, cuDNN's FMA math): no
// TF32 tensor cores, so differences from our kernels are rounding only.
// Where cuDNN has no matching routine the handwritten kernel is used and the
// function says so below.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/batchnorm2d/batchnorm2d.h"
#include "kernels/conv2d/conv2d.h"

namespace medtex::vendor {

enum class Kernels { kHandwritten, kVendor };

// Selects the kernels for gemm, conv2d and batchnorm2d on the GPU. kVendor
// needs a real GPU backend (gpu::use(kCuda)) and both libraries; it throws one
// line naming what is missing otherwise.
void select(Kernels k);
Kernels selected();
inline bool active() { return selected() == Kernels::kVendor; }
const char* kernels_name(Kernels k);  // "handwritten", "vendor"

struct Library {
  bool loaded = false;
  std::string detail;  // the file and version when loaded, why not otherwise
};
// Loads on first call (dlopen), never throws.
const Library& cublas();
const Library& cudnn();

// Row-major C = alpha op(A) op(B) + beta C, as cpu::gemm.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

void conv2d_forward(const cpu::Conv2dParams& p, const float* x, const float* w, const float* b,
                    float* y);
void conv2d_backward_input(const cpu::Conv2dParams& p, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const cpu::Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db);  // += as the CPU twin

void batchnorm2d_forward_train(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                               const float* bias, double momentum, double eps, float* y,
                               float* save_mean, float* save_invstd, float* running_mean,
                               float* running_var);
// cuDNN's inference routine; save_invstd (which it does not produce) is
// computed on the host from running_var, C values.
void batchnorm2d_forward_eval(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                              const float* bias, const float* running_mean,
                              const float* running_var, double eps, float* y, float* save_invstd);
// batch_stats only: cuDNN has no backward for fixed statistics (the engine
// uses the handwritten kernel there).
void batchnorm2d_backward_batch_stats(const cpu::BatchNorm2dShape& s, const float* x,
                                      const float* dy, const float* mean, const float* invstd,
                                      const float* weight, double eps, float* dx, float* dweight,
                                      float* dbias);

}  // namespace medtex::vendor
