// 2-d convolution (cross-correlation, as PyTorch's conv2d), NCHW, square
// stride and zero padding, no dilation or groups.
//
//   y[n, k, oh, ow] = b[k] + sum_{c, r, s} w[k, c, r, s] * x[n, c, iy, ix],
//   iy = oh * stride - pad + r,  ix = ow * stride - pad + s  (zero outside the input).
//
// Forward overwrites y; backward-input overwrites dx; backward-weight
// ACCUMULATES (+=) into dw and db, as parameter gradients do.
//
// CPU twin: im2col + cpu::gemm, over chunks of the batch whose column buffer
// is bounded (see conv2d_cpu.cpp). Results are bitwise identical for any
// thread count: threads split only independent outputs (images, planes, GEMM
// tiles), and dw sums the batch in a fixed number of groups set by the shapes,
// whose partial sums are added in group order.
#pragma once

#include <cstdint>

namespace medtex::cpu {

struct Conv2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input  x: [N, C, H, W]
  int64_t K = 0, R = 0, S = 0;         // weight w: [K, C, R, S]
  int64_t stride = 1, padding = 0;
  int64_t OH = 0, OW = 0;  // output y: [N, K, OH, OW], derived by make()

  // Fills OH = (H + 2 padding - R) / stride + 1 and likewise OW. The caller
  // checks that the kernel fits the padded input (H + 2 padding >= R).
  static Conv2dParams make(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R,
                           int64_t S, int64_t stride, int64_t padding) {
    Conv2dParams p{N, C, H, W, K, R, S, stride, padding, 0, 0};
    p.OH = (H + 2 * padding - R) / stride + 1;
    p.OW = (W + 2 * padding - S) / stride + 1;
    return p;
  }
};

// x: [N, C, H, W], w: [K, C, R, S], b: [K] or nullptr -> y: [N, K, OH, OW].
template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* b, T* y);

// dy: [N, K, OH, OW], w: [K, C, R, S] -> dx: [N, C, H, W] (overwritten).
template <class T>
void conv2d_backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx);

// x: [N, C, H, W], dy: [N, K, OH, OW] -> dw: [K, C, R, S] +=, db: [K] +=.
// Either output may be nullptr to skip it (x is not read when dw is nullptr).
template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* db);

}  // namespace medtex::cpu
