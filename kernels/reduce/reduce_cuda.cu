// Launchers of reduce_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/reduce/reduce_cuda.h"

#include <cstdint>

#include "kernels/common/error.h"
#include "kernels/memory/memory_cuda.h"
#include "kernels/reduce/reduce.h"
#include "kernels/reduce/reduce_cuda.cuh"
#include "kernels/runtime/scratch.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;

// The canonical form of reduce.h: extent-1 dims dropped, neighbours of the
// same kind merged, then split into the kept and the reduced walks.
struct Canonical {
  kern::ReducePlan plan;
  bool inner_reduced = false;  // the innermost canonical dim is reduced
};

Canonical canonical(int ndim, const int64_t* shape, uint32_t mask) {
  MT_CHECK(ndim <= cpu::kMaxReduceDims, "reduce_sum: ", ndim, " dims");
  const cpu::ReduceDims cd = cpu::canonical_reduce_dims(ndim, shape, mask);
  Canonical c;
  c.plan.count = cd.count;
  c.plan.outputs = cd.outputs;
  const int n = cd.n;
  const int64_t* ext = cd.extent;
  const int64_t* stride = cd.stride;
  const bool* red = cd.reduced;
  for (int d = 0; d < n; ++d) {
    kern::ReducePlan& p = c.plan;
    if (red[d]) {
      p.r_extent[p.nr] = ext[d];
      p.r_stride[p.nr] = stride[d];
      ++p.nr;
      p.inner_run = ext[d];
    } else {
      p.k_extent[p.nk] = ext[d];
      p.k_stride[p.nk] = stride[d];
      ++p.nk;
    }
  }
  c.inner_reduced = n > 0 && red[n - 1];
  return c;
}

}  // namespace

void reduce_sum(int ndim, const int64_t* shape, uint32_t reduced_mask, const float* x, float* y,
                double divisor, ReduceVersion v) {
  const Canonical c = canonical(ndim, shape, reduced_mask);
  const kern::ReducePlan& p = c.plan;
  if (p.outputs == 0) return;
  if (p.count == 0) {  // nothing to add: 0 / divisor, as on the CPU
    fill<float>(p.outputs, float(0.0 / divisor), y);
    return;
  }
  const int64_t in = p.outputs * p.count;
  if (v == ReduceVersion::kV1PerOutput) {
    check(simt::launch(kern::reduce_sum_v1, dim3(blocks_for(p.outputs, kBlock)), dim3(kBlock), 0,
                       stream(), p, x, y, divisor),
          "reduce_sum", "numel=", in, " outputs=", p.outputs, " v1");
    return;
  }
  const int64_t chunk = c.inner_reduced ? kern::kBlockChunk : kFixedChunk;
  const int64_t chunks = (p.count + chunk - 1) / chunk;
  DeviceScratch<double> part(chunks > 1 ? p.outputs * chunks : 0, "reduce_sum chunk sums");
  if (!c.inner_reduced) {
    check(simt::launch(kern::reduce_sum_v2_rows, dim3(blocks_for(p.outputs * chunks, kBlock)),
                       dim3(kBlock), 0, stream(), p, x, y, part.get(), divisor),
          "reduce_sum", "numel=", in, " outputs=", p.outputs, " v2 rows");
  } else if (p.count <= 256) {
    constexpr int kPer = kBlock / 32;  // segments (warps) per block
    check(simt::launch(kern::reduce_sum_v2_block<32>, dim3(blocks_for(p.outputs * chunks, kPer)),
                       dim3(kBlock), 0, stream(), p, x, y, part.get(), divisor),
          "reduce_sum", "numel=", in, " outputs=", p.outputs, " v2 warp");
  } else {
    check(simt::launch(kern::reduce_sum_v2_block<kBlock>, dim3(blocks_for(p.outputs * chunks, 1)),
                       dim3(kBlock), 0, stream(), p, x, y, part.get(), divisor),
          "reduce_sum", "numel=", in, " outputs=", p.outputs, " v2 block");
  }
  if (chunks > 1) {
    check(simt::launch(kern::reduce_finish, dim3(blocks_for(p.outputs, kBlock)), dim3(kBlock), 0,
                       stream(), p.outputs, chunks, static_cast<const double*>(part.get()), y,
                       divisor),
          "reduce_sum", "numel=", in, " outputs=", p.outputs, " chunks=", chunks, " v2 finish");
  }
}

void sum_partials(int64_t n, const double* parts, double divisor, float* out, ReduceVersion v) {
  if (v == ReduceVersion::kV1PerOutput) {
    check(simt::launch(kern::sum_partials_v1, dim3(1), dim3(32), 0, stream(), n, parts, divisor,
                       out),
          "sum_partials", "n=", n, " v1");
  } else {
    check(simt::launch(kern::sum_partials_v2<kBlock>, dim3(1), dim3(kBlock), 0, stream(), n, parts,
                       divisor, out),
          "sum_partials", "n=", n, " v2");
  }
}

}  // namespace medtex::gpu::SIMT_NS
