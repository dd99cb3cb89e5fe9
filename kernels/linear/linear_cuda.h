// CUDA twins of linear.h (float32, device pointers), the same contract:
// forward overwrites y and backward-input overwrites dx; backward-weight
// ACCUMULATES (+=) into dw and db, as parameter gradients do.
//
// All three are gemm_cuda.h calls with the CPU twin's arguments, so each
// element keeps the CPU's order of operations (the emulated build matches it
// bit for bit; a GPU differs by its fma contraction only). The version is the
// GEMM's. linear_cuda.cuh has the two small kernels of the bias: the add after
// the forward GEMM, and the column sum of dy, one thread per column walking
// the batch in increasing n as the CPU does (no atomics, no tree: the CPU's
// bits).
#pragma once

#include <cstdint>

#include "kernels/gemm/gemm_cuda.h"
#include "kernels/runtime/backend.h"

MT_GPU_DECLARE(
  // x: [n, in], w: [out, in], b: [out] or nullptr -> y: [n, out] = x w^T + b.
  void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w,
                      const float* b, float* y, GemmVersion v);
  // dy: [n, out], w: [out, in] -> dx: [n, in] = dy w.
  void linear_backward_input(int64_t n, int64_t in, int64_t out, const float* dy, const float* w,
                             float* dx, GemmVersion v);
  // x: [n, in], dy: [n, out] -> dw: [out, in] += dy^T x; db: [out] += sum_n dy.
  // Either output may be nullptr to skip it (x is not read when dw is nullptr).
  void linear_backward_weight(int64_t n, int64_t in, int64_t out, const float* x,
                              const float* dy, float* dw, float* db, GemmVersion v);
)
