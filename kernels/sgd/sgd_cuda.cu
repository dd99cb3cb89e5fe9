// Launchers of sgd_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/sgd/sgd_cuda.h"

#include <cstdint>

#include "kernels/runtime/gpu.h"
#include "kernels/sgd/sgd_cuda.cuh"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}
}  // namespace

void sgd_step(int64_t n, float* p, const float* g, float* buf, const cpu::SgdParams& params,
              bool first_step, SgdVersion v) {
  if (n <= 0) return;
  const bool momentum = params.momentum != 0;
  MT_CHECK(!momentum || buf != nullptr, "sgd_step: momentum needs a buffer (n=", n, ")");
  // Converted exactly as cpu::sgd_step converts them.
  const kern::SgdScalars s{float(params.lr),
                           float(params.momentum),
                           float(1 - params.dampening),
                           float(params.weight_decay),
                           momentum,
                           params.nesterov,
                           first_step};
  const bool vec =
      v == SgdVersion::kV2Vec4 && aligned16(p) && aligned16(g) && (!momentum || aligned16(buf));
  const auto kernel = vec ? kern::sgd_step_v2 : kern::sgd_step_v1;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, p, g,
                     buf, s),
        "sgd_step", "n=", n, " momentum=", params.momentum, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
