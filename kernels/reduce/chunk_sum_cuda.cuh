// The CUDA side of kernels/common/fixed_sum.h, for the elementwise losses
// (kl_div, bce_with_logits): loss = (sum_i Term::at(a[i], b[i])) / divisor,
// the terms summed in double in chunks of kFixedChunk, the chunk sums
// totalled by sum_partials (reduce_cuda.h). Template kernels and one template
// launcher: every .cu that includes this instantiates its own.
//   v1: one thread per chunk adding left to right, then one thread adding the
//       chunks in order: the CPU's fixed_chunk_sum, operation for operation.
//   v2: a 256-thread block per chunk (thread t adds t, t + 256, ...; a warp
//       reads 32 neighbouring floats), the block tree, then the one-block tree
//       over the chunk sums. Same value to about one rounding of the double sum.
#pragma once

#include <cstdint>

#include "kernels/common/parallel.h"
#include "kernels/reduce/group_reduce_cuda.cuh"
#include "kernels/reduce/reduce_cuda.h"
#include "kernels/runtime/scratch.h"
#include "kernels/runtime/gpu.h"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// a, b: [n]; part: [ceil(n / kFixedChunk)].
template <class Term>
__global__ void __launch_bounds__(256)
    fixed_chunk_sum_v1(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                       double* __restrict__ part) {
  const int64_t chunks = (n + kFixedChunk - 1) / kFixedChunk;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < chunks; k += step) {
    const int64_t end = (k + 1) * kFixedChunk < n ? (k + 1) * kFixedChunk : n;
    double s = 0.0;
    for (int64_t i = k * kFixedChunk; i < end; ++i) s += Term::at(a[i], b[i]);
    part[k] = s;
  }
}

template <class Term, int kBlock>
__global__ void __launch_bounds__(kBlock)
    fixed_chunk_sum_v2(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                       double* __restrict__ part) {
  SIMT_SHARED(double, scratch, [2 * (kBlock / 32)]);
  GroupReduce<kBlock> group(scratch);
  const int64_t chunks = (n + kFixedChunk - 1) / kFixedChunk;
  for (int64_t k = blockIdx.x; k < chunks; k += gridDim.x) {
    // The chunk's own pointers and a 32-bit count keep 64-bit index
    // arithmetic out of the loop (it spilled on sm_80 around the double log).
    const float* ca = a + k * kFixedChunk;
    const float* cb = b + k * kFixedChunk;
    const int len = int((k + 1) * kFixedChunk < n ? kFixedChunk : n - k * kFixedChunk);
    double s = 0.0;
    for (int i = int(threadIdx.x); i < len; i += kBlock) s += Term::at(ca[i], cb[i]);
    s = group.sum(s);
    if (threadIdx.x == 0) part[k] = s;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern

namespace medtex::gpu::SIMT_NS {

// loss[0] = float(sum_i Term::at(a[i], b[i]) / divisor); n > 0.
template <class Term>
void fixed_chunk_loss(const char* op, int64_t n, const float* a, const float* b, double divisor,
                      float* loss, bool v1) {
  constexpr int kBlock = 256;
  const int64_t chunks = (n + kFixedChunk - 1) / kFixedChunk;
  DeviceScratch<double> part(chunks, op);
  if (v1) {
    check(simt::launch(kern::fixed_chunk_sum_v1<Term>, dim3(blocks_for(chunks, kBlock)),
                       dim3(kBlock), 0, stream(), n, a, b, part.get()),
          op, "n=", n, " v1");
  } else {
    check(simt::launch(kern::fixed_chunk_sum_v2<Term, kBlock>, dim3(blocks_for(chunks, 1)),
                       dim3(kBlock), 0, stream(), n, a, b, part.get()),
          op, "n=", n, " v2");
  }
  sum_partials(chunks, part.get(), divisor, loss,
               v1 ? ReduceVersion::kV1PerOutput : ReduceVersion::kV2Block);
}

}  // namespace medtex::gpu::SIMT_NS
