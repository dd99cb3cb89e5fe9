// Launchers of conv2d_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/conv2d/conv2d_cuda.h"

#include <cstdint>
#include <ostream>

#include "kernels/common/error.h"
#include "kernels/conv2d/conv2d_cuda.cuh"
#include "kernels/runtime/gpu.h"
#include "kernels/runtime/scratch.h"
#include "kernels/vendor/vendor.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// "x=[N, C, H, W] w=[K, C, R, S] stride 2 padding 1 v3", for error messages.
struct Shapes {
  const cpu::Conv2dParams& p;
  Conv2dVersion v;
};
std::ostream& operator<<(std::ostream& o, const Shapes& s) {
  const cpu::Conv2dParams& p = s.p;
  return o << "x=[" << p.N << ", " << p.C << ", " << p.H << ", " << p.W << "] w=[" << p.K << ", "
           << p.C << ", " << p.R << ", " << p.S << "] stride " << p.stride << " padding "
           << p.padding << " v" << int(s.v);
}

kern::ConvDims dims_of(const cpu::Conv2dParams& p, Conv2dVersion v, const char* op) {
  constexpr int64_t kMax = INT32_MAX;
  MT_CHECK(p.N * p.C * p.H * p.W <= kMax && p.N * p.K * p.OH * p.OW <= kMax &&
               p.K * p.C * p.R * p.S <= kMax,
           "cuda: ", op, " (", Shapes{p, v},
           "): tensors of 2^31 elements or more are not supported");
  MT_CHECK(p.stride >= 1 && p.padding >= 0 && p.OH >= 0 && p.OW >= 0, "cuda: ", op, " (",
           Shapes{p, v}, "): bad stride, padding or output size");
  kern::ConvDims d{};
  d.N = int(p.N), d.C = int(p.C), d.H = int(p.H), d.W = int(p.W);
  d.K = int(p.K), d.R = int(p.R), d.S = int(p.S);
  d.stride = int(p.stride), d.pad = int(p.padding), d.OH = int(p.OH), d.OW = int(p.OW);
  d.HW = d.H * d.W, d.P = d.OH * d.OW, d.RS = d.R * d.S, d.CRS = d.C * d.RS;
  return d;
}

// Runs problem `prob` (conv2d_cuda.cuh) as an implicit GEMM of rows x cols
// outputs over depth, in `slices` slices of slice_depth.
template <class Prob>
void launch_igemm(const Prob& prob, int64_t rows, int64_t cols, int64_t depth, int64_t slices,
                  int64_t slice_depth, const cpu::Conv2dParams& p, Conv2dVersion v,
                  const char* op) {
  const Conv2dTile t = v == Conv2dVersion::kV2SharedTiles ? kConv2dTileV2 : kConv2dTileV3;
  const int64_t tiles_m = (rows + t.m - 1) / t.m, tiles = tiles_m * ((cols + t.n - 1) / t.n);
  MT_CHECK(tiles <= INT32_MAX && slices <= 65535, "cuda: ", op, " (", Shapes{p, v},
           "): too many tiles");
  static_assert(kConv2dTileV2.m == kConv2dTileV2.n && kConv2dTileV2.n == kConv2dTileV2.k &&
                    kConv2dTileV2.m * kConv2dTileV2.m == kBlock,
                "v2 runs one thread per output of a square tile");
  auto kernel = kern::conv_igemm_v3<Prob, kConv2dTileV3.m, kConv2dTileV3.n, kConv2dTileV3.k>;
  if constexpr (!Prob::kVec4) {  // only v3 reads float4 rows
    if (v == Conv2dVersion::kV2SharedTiles) kernel = kern::conv_igemm_v2<Prob, kConv2dTileV2.m>;
  }
  check(simt::launch(kernel, dim3(unsigned(tiles), unsigned(slices)), dim3(kBlock), 0, stream(),
                     prob, int(rows), int(cols), int(depth), int(tiles_m), int(slice_depth)),
        op, Shapes{p, v});
}


}  // namespace

void conv2d_forward(const cpu::Conv2dParams& p, const float* x, const float* w, const float* b,
                    float* y, Conv2dVersion v) {
  const int64_t outputs = p.N * p.K * p.OH * p.OW;
  if (outputs <= 0) return;
  if (v == Conv2dVersion::kVendor) {
    vendor::conv2d_forward(p, x, w, b, y);
    return;
  }
  const kern::ConvDims d = dims_of(p, v, "conv2d_forward");
  if (v == Conv2dVersion::kV1Direct) {
    check(simt::launch(kern::conv_forward_v1, dim3(blocks_for(outputs, kBlock)), dim3(kBlock), 0,
                       stream(), d, x, w, b, y),
          "conv2d_forward", Shapes{p, v});
    return;
  }
  const int64_t rows = p.N * p.OH * p.OW, cols = p.K, depth = p.C * p.R * p.S;
  // float4 rows of w: each row starts 16-byte aligned.
  if (v == Conv2dVersion::kV3RegisterTiles && depth % 4 == 0 && aligned16(w)) {
    launch_igemm(kern::ConvForward<true>{d, x, w, b, y}, rows, cols, depth, 1, depth, p, v,
                 "conv2d_forward");
  } else {
    launch_igemm(kern::ConvForward<false>{d, x, w, b, y}, rows, cols, depth, 1, depth, p, v,
                 "conv2d_forward");
  }
}

void conv2d_backward_input(const cpu::Conv2dParams& p, const float* dy, const float* w, float* dx,
                           Conv2dVersion v) {
  const int64_t inputs = p.N * p.C * p.H * p.W;
  if (inputs <= 0) return;
  if (v == Conv2dVersion::kVendor) {
    vendor::conv2d_backward_input(p, dy, w, dx);
    return;
  }
  const kern::ConvDims d = dims_of(p, v, "conv2d_backward_input");
  if (v == Conv2dVersion::kV1Direct) {
    check(simt::launch(kern::conv_backward_input_v1, dim3(blocks_for(inputs, kBlock)), dim3(kBlock),
                       0, stream(), d, dy, w, dx),
          "conv2d_backward_input", Shapes{p, v});
    return;
  }
  const int64_t rows = p.N * p.H * p.W, cols = p.C, depth = p.K * p.R * p.S;
  launch_igemm(kern::ConvBackwardInput{d, dy, w, dx}, rows, cols, depth, 1, depth, p, v,
               "conv2d_backward_input");
}

void conv2d_backward_weight(const cpu::Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db, Conv2dVersion v) {
  const int64_t depth = p.N * p.OH * p.OW, weights = p.K * p.C * p.R * p.S;
  if (depth <= 0 || p.K <= 0) return;  // nothing to add
  if (v == Conv2dVersion::kVendor) {
    vendor::conv2d_backward_weight(p, x, dy, dw, db);
    return;
  }
  const kern::ConvDims d = dims_of(p, v, "conv2d_backward_weight");
  if (db != nullptr) {
    if (v == Conv2dVersion::kV1Direct) {
      check(simt::launch(kern::conv_bias_grad_v1, dim3(blocks_for(p.K, kBlock)), dim3(kBlock), 0,
                         stream(), d, dy, db),
            "conv2d_backward_weight (bias)", Shapes{p, v});
    } else {
      check(simt::launch(kern::conv_bias_grad_block<kBlock>, dim3(unsigned(p.K)), dim3(kBlock), 0,
                         stream(), d, dy, db),
            "conv2d_backward_weight (bias)", Shapes{p, v});
    }
  }
  if (dw == nullptr || weights <= 0) return;
  if (v == Conv2dVersion::kV1Direct) {
    check(simt::launch(kern::conv_backward_weight_v1, dim3(blocks_for(weights, kBlock)),
                       dim3(kBlock), 0, stream(), d, x, dy, dw),
          "conv2d_backward_weight", Shapes{p, v});
    return;
  }
  const Conv2dWeightSplit split = conv2d_weight_split(p, v);
  // Freed right after the launches: every kernel runs on the one stream.
  const DeviceScratch<float> partial(split.slices > 1 ? split.slices * weights : 0,
                                     "conv2d weight partials");
  // float4 runs of dy along (img, pixel): a run of 4 from a multiple of 4
  // stays in one image and starts 16-byte aligned. Slices start at
  // multiples of the tile depth, so at multiples of 4 too.
  const bool vec = v == Conv2dVersion::kV3RegisterTiles && d.P % 4 == 0 && aligned16(dy);
  if (vec) {
    launch_igemm(kern::ConvBackwardWeight<true>{d, x, dy, dw, partial.get()}, p.K, d.CRS, depth,
                 split.slices, split.depth, p, v, "conv2d_backward_weight");
  } else {
    launch_igemm(kern::ConvBackwardWeight<false>{d, x, dy, dw, partial.get()}, p.K, d.CRS, depth,
                 split.slices, split.depth, p, v, "conv2d_backward_weight");
  }
  if (split.slices > 1) {
    check(simt::launch(kern::conv_weight_reduce, dim3(blocks_for(weights, kBlock)), dim3(kBlock), 0,
                       stream(), int(weights), int(split.slices), partial.get(), dw),
          "conv2d_backward_weight (slice sums)", Shapes{p, v});
  }
}

}  // namespace medtex::gpu::SIMT_NS
