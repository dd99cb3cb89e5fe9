// CUDA twins of conv2d.h (float32, device pointers), same Conv2dParams and the
// same contract: forward overwrites y; backward-input overwrites dx;
// backward-weight ACCUMULATES (+=) into dw and db (either may be nullptr to
// skip it; x is not read when dw is nullptr).
//
// Versions (conv2d_cuda.cuh has the kernels):
//   v1  direct: one thread per output element, the convolution's own loops.
//   v2  implicit GEMM, 16x16 output tile per 256-thread block, one output per
//       thread; 16-deep slices of the virtual im2col matrix staged in shared
//       memory, so each input is read from global memory once per tile.
//   v3  implicit GEMM, 64x64 output tile per 256-thread block, a 4x4 register
//       micro-tile per thread (float4 reads of the shared tiles), float4
//       global loads of w (forward) and dy (weight gradient) where the rows
//       are 16-byte aligned.
// The weight gradient of v2/v3 sums the N*OH*OW reduction in a fixed number
// of slices (set by the shapes and the version alone, conv2d_weight_splits),
// each written to its own partial buffer, then added in slice order by a
// second kernel: no atomics, the same bits whatever the schedule.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/conv2d/conv2d.h"
#include "kernels/runtime/backend.h"

namespace medtex::gpu {

enum class Conv2dVersion {
  kV1Direct = 1,         // one thread per output, the CPU loop over (c, r, s) or (n, oh, ow)
  kV2SharedTiles = 2,    // implicit GEMM, shared-memory tiles, one output per thread
  kV3RegisterTiles = 3,  // implicit GEMM, 4x4 register micro-tiles, float4 loads
  kVendor = 9,           // cuDNN (kernels/vendor), for comparison: a real GPU only
};
inline constexpr Conv2dVersion kConv2dForwardDefault = Conv2dVersion::kV3RegisterTiles;
inline constexpr Conv2dVersion kConv2dBackwardInputDefault = Conv2dVersion::kV3RegisterTiles;
inline constexpr Conv2dVersion kConv2dBackwardWeightDefault = Conv2dVersion::kV3RegisterTiles;

// Tiles of the implicit-GEMM versions: output rows x columns x reduction depth.
struct Conv2dTile {
  int m, n, k;
};
inline constexpr Conv2dTile kConv2dTileV2{16, 16, 16};
inline constexpr Conv2dTile kConv2dTileV3{64, 64, 16};

// Slices the weight gradient's N*OH*OW reduction is cut into (1 for v1 and
// whenever the reduction is short): enough (dw tiles x slices) blocks to fill
// a GPU, no slice shorter than kConv2dMinSliceDepth. Shapes only decide, so
// the bits of dw never depend on the device.
inline constexpr int64_t kConv2dWeightTargetBlocks = 256;
inline constexpr int64_t kConv2dMinSliceDepth = 128;

struct Conv2dWeightSplit {
  int64_t slices;  // partial buffers
  int64_t depth;   // reduction elements per slice (a multiple of the tile depth)
};

inline Conv2dWeightSplit conv2d_weight_split(const cpu::Conv2dParams& p, Conv2dVersion v) {
  const int64_t depth = p.N * p.OH * p.OW;
  if (v == Conv2dVersion::kV1Direct || depth <= 0) return {1, std::max<int64_t>(depth, 1)};
  const Conv2dTile t = v == Conv2dVersion::kV2SharedTiles ? kConv2dTileV2 : kConv2dTileV3;
  const int64_t tiles = ((p.K + t.m - 1) / t.m) * ((p.C * p.R * p.S + t.n - 1) / t.n);
  const int64_t want = (kConv2dWeightTargetBlocks + tiles - 1) / std::max<int64_t>(tiles, 1);
  const int64_t most = (depth + kConv2dMinSliceDepth - 1) / kConv2dMinSliceDepth;
  const int64_t slices = std::clamp<int64_t>(want, 1, std::min<int64_t>(most, 65535));
  int64_t chunk = (depth + slices - 1) / slices;
  chunk = (chunk + t.k - 1) / t.k * t.k;
  return {(depth + chunk - 1) / chunk, chunk};
}

}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [N, C, H, W], w: [K, C, R, S], b: [K] or nullptr -> y: [N, K, OH, OW] (overwritten).
  void conv2d_forward(const cpu::Conv2dParams& p, const float* x, const float* w, const float* b,
                      float* y, Conv2dVersion v);
  // dy: [N, K, OH, OW], w: [K, C, R, S] -> dx: [N, C, H, W] (overwritten).
  void conv2d_backward_input(const cpu::Conv2dParams& p, const float* dy, const float* w,
                             float* dx, Conv2dVersion v);
  // x: [N, C, H, W], dy: [N, K, OH, OW] -> dw: [K, C, R, S] +=, db: [K] +=.
  void conv2d_backward_weight(const cpu::Conv2dParams& p, const float* x, const float* dy,
                              float* dw, float* db, Conv2dVersion v);
)
