#include "kernels/memory/memory.h"

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void fill(int64_t n, T value, T* out) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = value;
}

template <class To, class From>
void convert(int64_t n, const From* in, To* out) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(in[i]);
}

template <class T>
void add_into(int64_t n, const T* a, const T* b, T* out) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

#define MEDTEX_INSTANTIATE_FILL(T)                  \
  template void fill<T>(int64_t, T, T*);            \
  template void add_into<T>(int64_t, const T*, const T*, T*);
MEDTEX_INSTANTIATE_FILL(float)
MEDTEX_INSTANTIATE_FILL(double)
MEDTEX_INSTANTIATE_FILL(int32_t)
MEDTEX_INSTANTIATE_FILL(int64_t)
#undef MEDTEX_INSTANTIATE_FILL

#define MEDTEX_INSTANTIATE_CONVERT_FROM(From)                 \
  template void convert<float, From>(int64_t, const From*, float*);     \
  template void convert<double, From>(int64_t, const From*, double*);   \
  template void convert<int32_t, From>(int64_t, const From*, int32_t*); \
  template void convert<int64_t, From>(int64_t, const From*, int64_t*);
MEDTEX_INSTANTIATE_CONVERT_FROM(float)
MEDTEX_INSTANTIATE_CONVERT_FROM(double)
MEDTEX_INSTANTIATE_CONVERT_FROM(int32_t)
MEDTEX_INSTANTIATE_CONVERT_FROM(int64_t)
#undef MEDTEX_INSTANTIATE_CONVERT_FROM

}  // namespace medtex::cpu
