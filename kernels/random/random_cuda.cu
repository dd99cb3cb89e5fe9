// Launchers of random_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/random/random_cuda.h"

#include <cstdint>

#include "kernels/random/random_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}
}  // namespace

void uniform_fill(int64_t n, const PhiloxDraw& draw, float lo, float hi, float* out,
                  RandomVersion v) {
  if (n <= 0) return;
  const float span = hi - lo;  // the CPU twin's (hi - lo), one float subtraction
  if (v == RandomVersion::kV1PerElement) {
    check(simt::launch(kern::uniform_fill_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), n, draw, lo, span, out),
          "uniform_fill", "n=", n, " v", int(v));
    return;
  }
  const auto kernel = aligned16(out) ? kern::uniform_fill_v2<true> : kern::uniform_fill_v2<false>;
  check(simt::launch(kernel, dim3(blocks_for((n + 3) / 4, kBlock)), dim3(kBlock), 0, stream(), n,
                     draw, lo, span, out),
        "uniform_fill", "n=", n, " v", int(v));
}

void normal_fill(int64_t n, const PhiloxDraw& draw, float mean, float stddev, float* out,
                 RandomVersion v) {
  if (n <= 0) return;
  if (v == RandomVersion::kV1PerElement) {
    check(simt::launch(kern::normal_fill_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0, stream(),
                       n, draw, mean, stddev, out),
          "normal_fill", "n=", n, " v", int(v));
    return;
  }
  const auto kernel = aligned16(out) ? kern::normal_fill_v2<true> : kern::normal_fill_v2<false>;
  check(simt::launch(kernel, dim3(blocks_for((n + 3) / 4, kBlock)), dim3(kBlock), 0, stream(), n,
                     draw, mean, stddev, out),
        "normal_fill", "n=", n, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
