// Launchers of batchnorm2d_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/batchnorm2d/batchnorm2d_cuda.h"

#include <cstdint>

#include "kernels/batchnorm2d/batchnorm2d_cuda.cuh"
#include "kernels/vendor/vendor.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;     // v2 / v3 block: 8 warps per channel slice
constexpr int kV1Block = 128;   // v1: one thread per channel
constexpr int kPerThread = 16;  // v3: values per thread of a block (before the split cap)
constexpr int kMaxSplit = 256;  // v3: at most this many blocks per channel
constexpr int64_t kMaxChannel = int64_t(1) << 30;  // values per channel (32-bit j + headroom)

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}
// The merge kernels have no grid-stride loop: one warp per channel, all launched.

// Device scratch for one launcher call, back to the caching allocator at the
// end of the scope. One stream: a later kernel reusing the block runs after
// this call's kernels.
class Scratch {
 public:
  Scratch(size_t bytes, const char* what) : p_(static_cast<char*>(gpu::alloc(bytes, what))) {}
  ~Scratch() { gpu::free(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T>
  T* at(size_t byte_offset) const {
    return reinterpret_cast<T*>(p_ + byte_offset);
  }

 private:
  char* p_;
};

// How a channel's m values are cut into blocks: S slices of `chunk` values
// (a multiple of 4, so quads never straddle two blocks). v2: one slice.
struct Split {
  int chunk;
  int slices;
};

Split split_for(int64_t m, BatchNorm2dVersion v) {
  if (v != BatchNorm2dVersion::kV3SplitChannel || m <= int64_t(kBlock) * kPerThread) {
    return {int((m + 3) / 4 * 4), 1};
  }
  int64_t slices = (m + int64_t(kBlock) * kPerThread - 1) / (int64_t(kBlock) * kPerThread);
  if (slices > kMaxSplit) slices = kMaxSplit;
  const int64_t chunk = ((m + slices - 1) / slices + 3) / 4 * 4;
  return {int(chunk), int((m + chunk - 1) / chunk)};
}

void check_shape(const char* op, const cpu::BatchNorm2dShape& s) {
  MT_CHECK(s.n >= 0 && s.c >= 0 && s.hw >= 0 && s.c <= INT32_MAX && s.n * s.hw < kMaxChannel, op,
           ": a channel of N=", s.n, " x HW=", s.hw, " values (C=", s.c,
           ") is more than the cuda kernels index (2^30 values per channel)");
}

}  // namespace

void batchnorm2d_forward_train(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                               const float* bias, double momentum, double eps, float* y,
                               float* save_mean, float* save_invstd, float* running_mean,
                               float* running_var, BatchNorm2dVersion v) {
  check_shape("batchnorm2d_forward_train", s);
  if (s.c == 0) return;
  if (v == BatchNorm2dVersion::kVendor) {
    vendor::batchnorm2d_forward_train(s, x, weight, bias, momentum, eps, y, save_mean, save_invstd,
                                      running_mean, running_var);
    return;
  }
  const int N = int(s.n), C = int(s.c), hw = int(s.hw);
  const int64_t m = s.n * s.hw;
  // With no values the CPU's 0 / 0 mean is NaN; v1 is its exact port.
  if (v == BatchNorm2dVersion::kV1ThreadPerChannel || m == 0) {
    check(simt::launch(kern::bn_forward_train_v1, dim3(blocks_for(C, kV1Block)), dim3(kV1Block), 0,
                       stream(), N, C, hw, x, weight, bias, momentum, eps, y, save_mean,
                       save_invstd, running_mean, running_var),
          "batchnorm2d_forward_train", "N=", N, " C=", C, " HW=", hw, " v1");
    return;
  }
  const bool quads = hw % 4 == 0 && aligned16(x) && aligned16(y);
  if (v == BatchNorm2dVersion::kV2BlockPerChannel) {
    check(simt::launch(kern::bn_forward_train_v2<kBlock>, dim3(C), dim3(kBlock), 0, stream(), N, C,
                       hw, quads, x, weight, bias, momentum, eps, y, save_mean, save_invstd,
                       running_mean, running_var),
          "batchnorm2d_forward_train", "N=", N, " C=", C, " HW=", hw, " v2");
    return;
  }
  const Split sp = split_for(m, v);
  const size_t parts = size_t(C) * size_t(sp.slices);
  // [parts] mean, [parts] m2, [parts] count, [C] scale.
  Scratch ws((3 * parts + size_t(C)) * 4, "batchnorm2d_forward_train workspace");
  float* part_mean = ws.at<float>(0);
  float* part_m2 = ws.at<float>(4 * parts);
  int* part_count = ws.at<int>(8 * parts);
  float* scale = ws.at<float>(12 * parts);
  check(simt::launch(kern::bn_stats_partial<kBlock>, dim3(C, sp.slices), dim3(kBlock), 0, stream(),
                     N, C, hw, sp.chunk, quads, x, part_mean, part_m2, part_count),
        "batchnorm2d_forward_train (partial statistics)", "N=", N, " C=", C, " HW=", hw,
        " slices=", sp.slices, " v3");
  check(
      simt::launch(kern::bn_stats_finish, dim3(blocks_for(C, kBlock / 32, INT32_MAX)), dim3(kBlock),
                   0, stream(), C, sp.slices, part_mean, part_m2, part_count, weight, momentum, eps,
                   save_mean, save_invstd, running_mean, running_var, scale),
      "batchnorm2d_forward_train (merge)", "N=", N, " C=", C, " HW=", hw, " slices=", sp.slices,
      " v3");
  check(simt::launch(kern::bn_normalize<kBlock>, dim3(C, sp.slices), dim3(kBlock), 0, stream(), N,
                     C, hw, sp.chunk, quads, x, save_mean, scale, bias, y),
        "batchnorm2d_forward_train (normalise)", "N=", N, " C=", C, " HW=", hw,
        " slices=", sp.slices, " v3");
}

void batchnorm2d_forward_eval(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                              const float* bias, const float* running_mean,
                              const float* running_var, double eps, float* y, float* save_invstd,
                              BatchNorm2dVersion v) {
  check_shape("batchnorm2d_forward_eval", s);
  if (v == BatchNorm2dVersion::kVendor && s.c > 0) {
    vendor::batchnorm2d_forward_eval(s, x, weight, bias, running_mean, running_var, eps, y,
                                     save_invstd);
    return;
  }
  if (s.c == 0) return;
  const int N = int(s.n), C = int(s.c), hw = int(s.hw);
  const int64_t m = s.n * s.hw;
  Scratch ws(size_t(C) * 4, "batchnorm2d_forward_eval workspace");
  float* scale = ws.at<float>(0);
  check(simt::launch(kern::bn_eval_coefs, dim3(blocks_for(C, kBlock)), dim3(kBlock), 0, stream(), C,
                     weight, running_var, eps, save_invstd, scale),
        "batchnorm2d_forward_eval (coefficients)", "C=", C);
  if (m == 0) return;
  if (v == BatchNorm2dVersion::kV1ThreadPerChannel) {
    const int64_t total = m * C;
    check(simt::launch(kern::bn_eval_apply_v1, dim3(blocks_for(total, kBlock)), dim3(kBlock), 0,
                       stream(), total, C, hw, x, running_mean, scale, bias, y),
          "batchnorm2d_forward_eval", "N=", N, " C=", C, " HW=", hw, " v1");
    return;
  }
  const bool quads = hw % 4 == 0 && aligned16(x) && aligned16(y);
  const Split sp = split_for(m, v);
  check(simt::launch(kern::bn_normalize<kBlock>, dim3(C, sp.slices), dim3(kBlock), 0, stream(), N,
                     C, hw, sp.chunk, quads, x, running_mean, scale, bias, y),
        "batchnorm2d_forward_eval", "N=", N, " C=", C, " HW=", hw, " slices=", sp.slices, " v",
        int(v));
}

void batchnorm2d_backward(const cpu::BatchNorm2dShape& s, bool batch_stats, const float* x,
                          const float* dy, const float* mean, const float* invstd,
                          const float* weight, float* dx, float* dweight, float* dbias,
                          BatchNorm2dVersion v) {
  check_shape("batchnorm2d_backward", s);
  if (v == BatchNorm2dVersion::kVendor) {
    if (batch_stats && s.c > 0) {
      // cuDNN reads eps only to recompute what the saved statistics hold;
      // the engine's default (1e-5) is passed.
      vendor::batchnorm2d_backward_batch_stats(s, x, dy, mean, invstd, weight, 1e-5, dx, dweight,
                                               dbias);
      return;
    }
    v = kBatchNorm2dDefault;  // cuDNN has no backward for fixed statistics
  }
  if (s.c == 0) return;
  const int N = int(s.n), C = int(s.c), hw = int(s.hw);
  const int64_t m = s.n * s.hw;
  if (v == BatchNorm2dVersion::kV1ThreadPerChannel || m == 0) {
    check(simt::launch(kern::bn_backward_v1, dim3(blocks_for(C, kV1Block)), dim3(kV1Block), 0,
                       stream(), N, C, hw, batch_stats, x, dy, mean, invstd, weight, dx, dweight,
                       dbias),
          "batchnorm2d_backward", "N=", N, " C=", C, " HW=", hw, " v1");
    return;
  }
  const bool quads = hw % 4 == 0 && aligned16(x) && aligned16(dy) && aligned16(dx);
  if (v == BatchNorm2dVersion::kV2BlockPerChannel) {
    check(simt::launch(kern::bn_backward_v2<kBlock>, dim3(C), dim3(kBlock), 0, stream(), N, C, hw,
                       quads, batch_stats, x, dy, mean, invstd, weight, dx, dweight, dbias),
          "batchnorm2d_backward", "N=", N, " C=", C, " HW=", hw, " v2");
    return;
  }
  const Split sp = split_for(m, v);
  const size_t parts = size_t(C) * size_t(sp.slices);
  // [parts] sum dy, [parts] sum dy * (x - mean), [C, 3] dx coefficients.
  Scratch ws((2 * parts + 3 * size_t(C)) * 4, "batchnorm2d_backward workspace");
  float* part_dy = ws.at<float>(0);
  float* part_dyx = ws.at<float>(4 * parts);
  float* coef = ws.at<float>(8 * parts);
  check(simt::launch(kern::bn_backward_partial<kBlock>, dim3(C, sp.slices), dim3(kBlock), 0,
                     stream(), N, C, hw, sp.chunk, quads, x, dy, mean, part_dy, part_dyx),
        "batchnorm2d_backward (partial sums)", "N=", N, " C=", C, " HW=", hw, " slices=", sp.slices,
        " v3");
  check(simt::launch(kern::bn_backward_finish, dim3(blocks_for(C, kBlock / 32, INT32_MAX)),
                     dim3(kBlock), 0, stream(), C, sp.slices, m, batch_stats, part_dy, part_dyx,
                     invstd, weight, dweight, dbias, coef),
        "batchnorm2d_backward (merge)", "N=", N, " C=", C, " HW=", hw, " slices=", sp.slices,
        " v3");
  check(simt::launch(kern::bn_backward_dx<kBlock>, dim3(C, sp.slices), dim3(kBlock), 0, stream(), N,
                     C, hw, sp.chunk, quads, batch_stats, x, dy, mean, coef, dx),
        "batchnorm2d_backward (dx)", "N=", N, " C=", C, " HW=", hw, " slices=", sp.slices, " v3");
}

}  // namespace medtex::gpu::SIMT_NS
