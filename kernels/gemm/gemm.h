// General matrix multiply, the compute under conv2d and linear.
//
//   C = alpha * op(A) * op(B) + beta * C,   op(X) = X or X^T,
//
// row-major: op(A) is [M, K], op(B) is [K, N], C is [M, N]. C is read (unless
// beta == 0) and overwritten. beta == 0 ignores C's old contents entirely, so
// C may hold garbage or NaN; alpha == 0 or K == 0 reads neither A nor B.
//
// Determinism: every element of C is computed by one thread as
//   c = beta * c_old;  for k = 0 .. K-1:  c += (alpha * a_ik) * b_kj
// in exactly this order, whatever the blocking and the thread count, so the
// result is bitwise identical for any number of threads. (With beta == 1 the
// start value is c_old itself, which makes "C += A B" over several calls
// equal, bit for bit, to one call over the concatenated K.)
//
// Threads: OpenMP over tiles of C. Called from inside an active OpenMP
// parallel region it runs on the calling thread alone (the caller has split
// the work already), with the same result.
#pragma once

#include <cstdint>

#include "kernels/common/cpu_isa.h"

namespace medtex::cpu {

// A: [M, K] with row stride lda, or [K, M] when trans_a (op(A) = A^T).
// B: [K, N] with row stride ldb, or [N, K] when trans_b.
// C: [M, N] with row stride ldc.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The same with the micro-kernel of a given vector extension (capped at what
// the CPU supports; double always uses the baseline one): for the tests that
// pin every extension to the baseline's bits, and for the benchmarks. gemm()
// uses active_isa().
template <class T>
void gemm_isa(Isa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
              const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace medtex::cpu
