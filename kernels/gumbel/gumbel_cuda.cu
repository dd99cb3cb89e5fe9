// Launchers of gumbel_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/gumbel/gumbel_cuda.h"

#include <cstdint>

#include "kernels/gumbel/gumbel_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}
}  // namespace

void gumbel_fill(int64_t n, const PhiloxDraw& draw, float* out, GumbelVersion v) {
  if (n <= 0) return;
  if (v == GumbelVersion::kV1PerElement) {
    check(simt::launch(kern::gumbel_fill_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0, stream(),
                       n, draw, out),
          "gumbel_fill", "n=", n, " v", int(v));
    return;
  }
  const auto kernel = aligned16(out) ? kern::gumbel_fill_v2<true> : kern::gumbel_fill_v2<false>;
  check(simt::launch(kernel, dim3(blocks_for((n + 3) / 4, kBlock)), dim3(kBlock), 0, stream(), n,
                     draw, out),
        "gumbel_fill", "n=", n, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
