// Launchers of linear_cuda.h, built for both backends (runtime/backend.h):
// the CPU twin's gemm calls, through this backend's gemm launcher.
#include "kernels/linear/linear_cuda.h"

#include <cstdint>

#include "kernels/gemm/gemm_cuda.h"
#include "kernels/linear/linear_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
}

void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w,
                    const float* b, float* y, GemmVersion v) {
  // y[n, out] = x[n, in] w^T[in, out]; w is stored [out, in], so B is transposed.
  gemm(false, true, n, out, in, 1.f, x, in, w, in, 0.f, y, out, v);
  if (b == nullptr || n <= 0 || out <= 0) return;
  check(simt::launch(kern::linear_bias_add, dim3(blocks_for(n * out, kBlock)), dim3(kBlock), 0,
                     stream(), n, out, b, y),
        "linear_forward bias", "n=", n, " in=", in, " out=", out);
}

void linear_backward_input(int64_t n, int64_t in, int64_t out, const float* dy, const float* w,
                           float* dx, GemmVersion v) {
  // dx[n, in] = dy[n, out] w[out, in].
  gemm(false, false, n, in, out, 1.f, dy, out, w, in, 0.f, dx, in, v);
}

void linear_backward_weight(int64_t n, int64_t in, int64_t out, const float* x, const float* dy,
                            float* dw, float* db, GemmVersion v) {
  // dw[out, in] += dy^T[out, n] x[n, in]; dy is stored [n, out], so A is
  // transposed; beta = 1 continues the sum already in dw.
  if (dw != nullptr) gemm(true, false, out, in, n, 1.f, dy, out, x, in, 1.f, dw, in, v);
  if (db == nullptr || out <= 0) return;
  check(simt::launch(kern::linear_bias_grad, dim3(blocks_for(out, kBlock)), dim3(kBlock), 0,
                     stream(), n, out, dy, db),
        "linear_backward_weight bias", "n=", n, " in=", in, " out=", out);
}

}  // namespace medtex::gpu::SIMT_NS
