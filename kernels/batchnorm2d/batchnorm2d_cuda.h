// CUDA twins of batchnorm2d.h (float32, device pointers). Same contract:
// overwritten: y, save_mean, save_invstd, dx, and running_mean / running_var
// when given (non-null); accumulated (+=): dweight and dbias.
//
// Limits beyond the CPU twin's: a channel's N * H * W values must fit in
// int32 (the kernels index inside a channel with 32-bit integers); the
// launchers check it and throw, naming the shapes.
#pragma once

#include <cstdint>

#include "kernels/batchnorm2d/batchnorm2d.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests. All
// three are deterministic: every sum runs in an order fixed by the shape alone.
enum class BatchNorm2dVersion {
  // The CPU loop, one thread per channel, sums in double in the CPU's order:
  // bitwise the CPU twin's results (statistics, y, dx, running stats).
  kV1ThreadPerChannel = 1,
  // One block per channel: per-thread Welford over a fixed slice (float), a
  // fixed-order tree merge (warp shuffles, then shared memory), and the
  // normalising pass in the same kernel. The backward likewise.
  kV2BlockPerChannel = 2,
  // Each channel split over several blocks, so a few wide channels still fill
  // the GPU: partial Welford states (or sums) in a workspace, a warp per
  // channel merging them in a fixed order, then an elementwise pass.
  kV3SplitChannel = 3,
  // cuDNN (kernels/vendor), for comparison: a real GPU only. cuDNN has no
  // backward for fixed (evaluation) statistics: that one stays kBatchNorm2dDefault.
  kVendor = 9,
};
// v3 by reasoning, not yet measured: the cnn-small stem has C = 16, which
// leaves v2 16 blocks; v3 splits its 131072-value channels 32 ways.
inline constexpr BatchNorm2dVersion kBatchNorm2dDefault = BatchNorm2dVersion::kV3SplitChannel;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x, y: [N, C, H, W]; weight, bias, save_mean, save_invstd: [C];
  // running_mean, running_var: [C] or both null (then not updated).
  void batchnorm2d_forward_train(const cpu::BatchNorm2dShape& s, const float* x,
                                 const float* weight, const float* bias, double momentum,
                                 double eps, float* y, float* save_mean, float* save_invstd,
                                 float* running_mean, float* running_var, BatchNorm2dVersion v);
  // x, y: [N, C, H, W]; weight, bias, running_mean, running_var, save_invstd: [C].
  void batchnorm2d_forward_eval(const cpu::BatchNorm2dShape& s, const float* x,
                                const float* weight, const float* bias, const float* running_mean,
                                const float* running_var, double eps, float* y, float* save_invstd,
                                BatchNorm2dVersion v);
  // x, dy, dx: [N, C, H, W]; mean, invstd, weight, dweight (+=), dbias (+=): [C].
  void batchnorm2d_backward(const cpu::BatchNorm2dShape& s, bool batch_stats, const float* x,
                            const float* dy, const float* mean, const float* invstd,
                            const float* weight, float* dx, float* dweight, float* dbias,
                            BatchNorm2dVersion v);
)
