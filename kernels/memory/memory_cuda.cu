// Launchers of memory_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/memory/memory_cuda.h"

#include "kernels/memory/memory_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
}

template <class T>
void fill(int64_t n, T value, T* out) {
  if (n <= 0) return;
  check(simt::launch(kern::fill_kernel<T>, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0, stream(),
                     n, value, out),
        "fill", "n=", n);
}

template <class To, class From>
void convert(int64_t n, const From* in, To* out) {
  if (n <= 0) return;
  check(simt::launch(kern::convert_kernel<To, From>, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                     stream(), n, in, out),
        "convert", "n=", n);
}

void add_into(int64_t n, const float* a, const float* b, float* out) {
  if (n <= 0) return;
  check(simt::launch(kern::add_into_kernel, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0, stream(),
                     n, a, b, out),
        "add_into", "n=", n);
}

template void fill<float>(int64_t, float, float*);
template void fill<double>(int64_t, double, double*);
template void fill<int32_t>(int64_t, int32_t, int32_t*);
template void fill<int64_t>(int64_t, int64_t, int64_t*);

#define MT_CONVERT_FROM(From)                                            \
  template void convert<float, From>(int64_t, const From*, float*);     \
  template void convert<double, From>(int64_t, const From*, double*);   \
  template void convert<int32_t, From>(int64_t, const From*, int32_t*); \
  template void convert<int64_t, From>(int64_t, const From*, int64_t*);
MT_CONVERT_FROM(float)
MT_CONVERT_FROM(double)
MT_CONVERT_FROM(int32_t)
MT_CONVERT_FROM(int64_t)
#undef MT_CONVERT_FROM

}  // namespace medtex::gpu::SIMT_NS
