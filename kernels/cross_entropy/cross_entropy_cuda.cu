// Launchers of cross_entropy_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/cross_entropy/cross_entropy_cuda.h"

#include <cstdint>

#include "kernels/cross_entropy/cross_entropy_cuda.cuh"
#include "kernels/reduce/reduce_cuda.h"
#include "kernels/runtime/scratch.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;
// Longest row a warp takes in v2 (32 elements per lane); longer rows get a block.
constexpr int64_t kWarpRowMax = 1024;

ReduceVersion total_version(CrossEntropyVersion v) {
  return v == CrossEntropyVersion::kV1Thread ? ReduceVersion::kV1PerOutput
                                             : ReduceVersion::kV2Block;
}

}  // namespace

template <class I>
int64_t cross_entropy_first_bad_label(int64_t n, int64_t c, const I* labels) {
  if (n <= 0) return -1;
  DeviceScratch<long long> first(1, "cross_entropy label check");
  const long long none = n;
  copy_to_device(first.get(), &none, sizeof none, "cross_entropy label check");
  check(simt::launch(kern::ce_first_bad_label<I>, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                     stream(), n, c, labels, first.get()),
        "cross_entropy_first_bad_label", "labels=[", n, "] classes=", c);
  long long got = n;
  copy_to_host(&got, first.get(), sizeof got, "cross_entropy label check");
  return got < n ? int64_t(got) : -1;
}

template <class I>
void cross_entropy_forward(int64_t n, int64_t c, const float* logits, const I* labels, double* lse,
                           float* loss, CrossEntropyVersion v) {
  if (n <= 0 || c <= 0) return;  // the engine refuses empty logits
  DeviceScratch<double> rows(n, "cross_entropy row losses");
  if (v == CrossEntropyVersion::kV1Thread) {
    check(simt::launch(kern::ce_forward_v1<I>, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), n, c, logits, labels, lse, rows.get()),
          "cross_entropy_forward", "logits=[", n, ", ", c, "] v1");
  } else if (c <= kWarpRowMax) {
    check(simt::launch(kern::ce_forward_v2<I, 32>, dim3(blocks_for(n, kBlock / 32)), dim3(kBlock),
                       0, stream(), n, c, logits, labels, lse, rows.get()),
          "cross_entropy_forward", "logits=[", n, ", ", c, "] v2 warp");
  } else {
    check(simt::launch(kern::ce_forward_v2<I, kBlock>, dim3(blocks_for(n, 1)), dim3(kBlock), 0,
                       stream(), n, c, logits, labels, lse, rows.get()),
          "cross_entropy_forward", "logits=[", n, ", ", c, "] v2 block");
  }
  sum_partials(n, rows.get(), double(n), loss, total_version(v));
}

template <class I>
void cross_entropy_backward(int64_t n, int64_t c, const float* logits, const I* labels,
                            const double* lse, const float* dloss, float* dlogits,
                            CrossEntropyVersion v) {
  if (n <= 0 || c <= 0) return;
  if (v == CrossEntropyVersion::kV1Thread) {
    check(simt::launch(kern::ce_backward_v1<I>, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), n, c, logits, labels, lse, dloss, dlogits),
          "cross_entropy_backward", "logits=[", n, ", ", c, "] v1");
  } else {
    check(simt::launch(kern::ce_backward_v2<I>, dim3(blocks_for(n * c, kBlock)), dim3(kBlock), 0,
                       stream(), n, c, logits, labels, lse, dloss, dlogits),
          "cross_entropy_backward", "logits=[", n, ", ", c, "] v2");
  }
}

void cross_entropy_soft_forward(int64_t n, int64_t c, const float* logits, const float* target,
                                double* lse, float* loss, CrossEntropyVersion v) {
  if (n <= 0 || c <= 0) return;
  DeviceScratch<double> rows(n, "cross_entropy_soft row losses");
  if (v == CrossEntropyVersion::kV1Thread) {
    check(simt::launch(kern::ce_soft_forward_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), n, c, logits, target, lse, rows.get()),
          "cross_entropy_soft_forward", "logits=[", n, ", ", c, "] v1");
  } else if (c <= kWarpRowMax) {
    check(simt::launch(kern::ce_soft_forward_v2<32>, dim3(blocks_for(n, kBlock / 32)),
                       dim3(kBlock), 0, stream(), n, c, logits, target, lse, rows.get()),
          "cross_entropy_soft_forward", "logits=[", n, ", ", c, "] v2 warp");
  } else {
    check(simt::launch(kern::ce_soft_forward_v2<kBlock>, dim3(blocks_for(n, 1)), dim3(kBlock), 0,
                       stream(), n, c, logits, target, lse, rows.get()),
          "cross_entropy_soft_forward", "logits=[", n, ", ", c, "] v2 block");
  }
  sum_partials(n, rows.get(), double(n), loss, total_version(v));
}

void cross_entropy_soft_backward(int64_t n, int64_t c, const float* logits, const float* target,
                                 const double* lse, const float* dloss, float* dlogits,
                                 float* dtarget, CrossEntropyVersion v) {
  if (n <= 0 || c <= 0 || (dlogits == nullptr && dtarget == nullptr)) return;
  if (v == CrossEntropyVersion::kV1Thread) {
    check(simt::launch(kern::ce_soft_backward_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), n, c, logits, target, lse, dloss, dlogits, dtarget),
          "cross_entropy_soft_backward", "logits=[", n, ", ", c, "] v1");
  } else if (c <= kWarpRowMax) {
    check(simt::launch(kern::ce_soft_backward_v2<32>, dim3(blocks_for(n, kBlock / 32)),
                       dim3(kBlock), 0, stream(), n, c, logits, target, lse, dloss, dlogits,
                       dtarget),
          "cross_entropy_soft_backward", "logits=[", n, ", ", c, "] v2 warp");
  } else {
    check(simt::launch(kern::ce_soft_backward_v2<kBlock>, dim3(blocks_for(n, 1)), dim3(kBlock), 0,
                       stream(), n, c, logits, target, lse, dloss, dlogits, dtarget),
          "cross_entropy_soft_backward", "logits=[", n, ", ", c, "] v2 block");
  }
}

template int64_t cross_entropy_first_bad_label<int32_t>(int64_t, int64_t, const int32_t*);
template int64_t cross_entropy_first_bad_label<int64_t>(int64_t, int64_t, const int64_t*);
#define MT_CE_INSTANTIATE(I)                                                                    \
  template void cross_entropy_forward<I>(int64_t, int64_t, const float*, const I*, double*,     \
                                         float*, CrossEntropyVersion);                          \
  template void cross_entropy_backward<I>(int64_t, int64_t, const float*, const I*,             \
                                          const double*, const float*, float*,                  \
                                          CrossEntropyVersion);
MT_CE_INSTANTIATE(int32_t)
MT_CE_INSTANTIATE(int64_t)
#undef MT_CE_INSTANTIATE

}  // namespace medtex::gpu::SIMT_NS
