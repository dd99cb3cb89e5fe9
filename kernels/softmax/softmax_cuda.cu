// Launchers of softmax_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/softmax/softmax_cuda.h"

#include <cstdint>

#include "kernels/runtime/gpu.h"
#include "kernels/softmax/softmax_cuda.cuh"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;
// Longest row a warp takes in v2 (32 elements per lane); longer rows get a block.
constexpr int64_t kWarpRowMax = 1024;

template <bool kLog>
void forward(const cpu::SoftmaxShape& s, float inv_t, const float* x, float* y, SoftmaxVersion v) {
  const char* op = kLog ? "log_softmax_forward" : "softmax_forward";
  const int64_t rows = s.outer * s.inner;
  if (rows <= 0 || s.dim <= 0) return;
  if (v == SoftmaxVersion::kV1Thread || s.inner > 1) {
    check(simt::launch(kern::softmax_forward_v1<kLog>, dim3(blocks_for(rows, kBlock)), dim3(kBlock),
                       0, stream(), s.outer, s.dim, s.inner, inv_t, x, y),
          op, "x=[", s.outer, ", ", s.dim, ", ", s.inner, "] v", int(v));
  } else if (s.dim <= kWarpRowMax) {
    check(simt::launch(kern::softmax_forward_v2<kLog, 32>, dim3(blocks_for(rows, kBlock / 32)),
                       dim3(kBlock), 0, stream(), rows, s.dim, inv_t, x, y),
          op, "x=[", s.outer, ", ", s.dim, ", 1] v2 warp");
  } else {
    check(simt::launch(kern::softmax_forward_v2<kLog, kBlock>, dim3(blocks_for(rows, 1)),
                       dim3(kBlock), 0, stream(), rows, s.dim, inv_t, x, y),
          op, "x=[", s.outer, ", ", s.dim, ", 1] v2 block");
  }
}

template <bool kLog>
void backward(const cpu::SoftmaxShape& s, float inv_t, const float* y, const float* dy, float* dx,
              SoftmaxVersion v) {
  const char* op = kLog ? "log_softmax_backward" : "softmax_backward";
  const int64_t rows = s.outer * s.inner;
  if (rows <= 0 || s.dim <= 0) return;
  if (v == SoftmaxVersion::kV1Thread || s.inner > 1) {
    check(simt::launch(kern::softmax_backward_v1<kLog>, dim3(blocks_for(rows, kBlock)),
                       dim3(kBlock), 0, stream(), s.outer, s.dim, s.inner, inv_t, y, dy, dx),
          op, "dy=[", s.outer, ", ", s.dim, ", ", s.inner, "] v", int(v));
  } else if (s.dim <= kWarpRowMax) {
    check(simt::launch(kern::softmax_backward_v2<kLog, 32>, dim3(blocks_for(rows, kBlock / 32)),
                       dim3(kBlock), 0, stream(), rows, s.dim, inv_t, y, dy, dx),
          op, "dy=[", s.outer, ", ", s.dim, ", 1] v2 warp");
  } else {
    check(simt::launch(kern::softmax_backward_v2<kLog, kBlock>, dim3(blocks_for(rows, 1)),
                       dim3(kBlock), 0, stream(), rows, s.dim, inv_t, y, dy, dx),
          op, "dy=[", s.outer, ", ", s.dim, ", 1] v2 block");
  }
}

}  // namespace

void softmax_forward(const cpu::SoftmaxShape& s, float inv_temperature, const float* x, float* y,
                     SoftmaxVersion v) {
  forward<false>(s, inv_temperature, x, y, v);
}

void log_softmax_forward(const cpu::SoftmaxShape& s, float inv_temperature, const float* x,
                         float* y, SoftmaxVersion v) {
  forward<true>(s, inv_temperature, x, y, v);
}

void softmax_backward(const cpu::SoftmaxShape& s, float inv_temperature, const float* y,
                      const float* dy, float* dx, SoftmaxVersion v) {
  backward<false>(s, inv_temperature, y, dy, dx, v);
}

void log_softmax_backward(const cpu::SoftmaxShape& s, float inv_temperature, const float* y,
                          const float* dy, float* dx, SoftmaxVersion v) {
  backward<true>(s, inv_temperature, y, dy, dx, v);
}

}  // namespace medtex::gpu::SIMT_NS
