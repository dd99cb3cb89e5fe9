// Launchers of relu_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/relu/relu_cuda.h"

#include <cstdint>

#include "kernels/relu/relu_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
}  // namespace

void relu_forward(int64_t n, const float* x, float* y, ReluVersion v) {
  if (n <= 0) return;
  const bool vec = v == ReluVersion::kV2Vec4 && aligned16(x) && aligned16(y);
  const auto kernel = vec ? kern::relu_forward_v2 : kern::relu_forward_v1;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, x, y),
        "relu_forward", "n=", n, " v", int(v));
}

void relu_backward(int64_t n, const float* y, const float* dy, float* dx, ReluVersion v) {
  if (n <= 0) return;
  const bool vec = v == ReluVersion::kV2Vec4 && aligned16(y) && aligned16(dy) && aligned16(dx);
  const auto kernel = vec ? kern::relu_backward_v2 : kern::relu_backward_v1;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, y, dy, dx),
        "relu_backward", "n=", n, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
