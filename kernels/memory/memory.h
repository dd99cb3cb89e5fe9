// Whole-tensor memory ops the engine core needs: fill, type conversion, and
// the out-of-place sum autograd uses to accumulate gradients.
#pragma once

#include <cstdint>

namespace medtex::cpu {

template <class T>
void fill(int64_t n, T value, T* out);  // out[i] = value

template <class To, class From>
void convert(int64_t n, const From* in, To* out);  // out[i] = To(in[i])

template <class T>
void add_into(int64_t n, const T* a, const T* b, T* out);  // out[i] = a[i] + b[i]

}  // namespace medtex::cpu
