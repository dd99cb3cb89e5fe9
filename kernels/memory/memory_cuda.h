// CUDA twins of memory.h: fill, type conversion, and the out-of-place sum
// autograd accumulates gradients with. Device pointers; any element type the
// engine has (fill, convert), float32 (add_into).
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

MT_GPU_DECLARE(
  template <class T>
  void fill(int64_t n, T value, T* out);
  template <class To, class From>
  void convert(int64_t n, const From* in, To* out);
  void add_into(int64_t n, const float* a, const float* b, float* out);
)
