// Fully connected layer, y = x w^T + b, on top of cpu::gemm.
// Forward overwrites y and backward-input overwrites dx; backward-weight
// ACCUMULATES into dw and db (+=), as parameter gradients do.
//
// Determinism: every output element is one gemm element (a fixed-order sum
// over k), and db sums over the batch in increasing n; so the results are
// bitwise identical for any thread count.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [n, in], w: [out, in], b: [out] or nullptr -> y: [n, out].
template <class T>
void linear_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y);

// dy: [n, out], w: [out, in] -> dx: [n, in] = dy w.
template <class T>
void linear_backward_input(int64_t n, int64_t in, int64_t out, const T* dy, const T* w, T* dx);

// x: [n, in], dy: [n, out] -> dw: [out, in] += dy^T x; db: [out] += sum_n dy.
// Either output may be nullptr to skip it (x is not read when dw is nullptr).
template <class T>
void linear_backward_weight(int64_t n, int64_t in, int64_t out, const T* x, const T* dy, T* dw,
                            T* db);

}  // namespace medtex::cpu
