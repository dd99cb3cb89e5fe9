// The one place that decides where and in which precision an op runs.
//
// An op with kernels for both devices calls dispatch(op, t, cpu, cuda): the
// CPU body is a generic lambda over the scalar type (float or double); the
// CUDA body runs only for float32 (the GPU kernels' one type) and calls the
// active GPU backend's launcher through MT_GPU (kernels/runtime/backend.h):
//
//   dispatch("relu", x,
//       [&](auto zero) {
//         using T = decltype(zero);
//         cpu::relu_forward<T>(x.numel(), x.data<T>(), y.data<T>());
//       },
//       [&] { MT_GPU(relu_forward)(x.numel(), x.data<float>(), y.data<float>(), gpu::kReluDefault); });
//
// dispatch_float(op, t, cpu) is the CPU-only form: a tensor on another device
// fails there with an error naming the op, never a crash.
#pragma once

#include <initializer_list>

#include "engine/tensor.h"
#include "kernels/runtime/backend.h"

namespace medtex {

// Fails unless all defined tensors share one device and one dtype. Names the op.
void check_same_kind(const char* op, std::initializer_list<Tensor> tensors);

template <class F>
void dispatch_float(const char* op, const Tensor& t, F&& f) {
  MT_CHECK(t.device().is_cpu(), op, ": no ", t.device().str(), " kernel (", t.str(), ")");
  switch (t.dtype()) {
    case DType::F32:
      f(float{});
      return;
    case DType::F64:
      f(double{});
      return;
    default:
      fail(op, ": expects a float32 or float64 tensor, got ", t.str());
  }
}

template <class Cpu, class Cuda>
void dispatch(const char* op, const Tensor& t, Cpu&& cpu, Cuda&& cuda) {
  if (t.device().is_cuda()) {
    MT_CHECK(t.dtype() == DType::F32, op, ": the cuda kernels take float32, got ", t.str());
    cuda();
    return;
  }
  dispatch_float(op, t, cpu);
}

// Integer index tensors (labels): f(int32_t{}) or f(int64_t{}), on any
// device; anything else fails naming the op.
template <class F>
void dispatch_index_type(const char* op, const Tensor& t, F&& f) {
  switch (t.dtype()) {
    case DType::I32:
      f(int32_t{});
      return;
    case DType::I64:
      f(int64_t{});
      return;
    default:
      fail(op, ": expects an int32 or int64 index tensor, got ", t.str());
  }
}

// The same for code that reads the indices on the host: CPU tensors only.
template <class F>
void dispatch_index(const char* op, const Tensor& t, F&& f) {
  MT_CHECK(t.device().is_cpu(), op, ": no ", t.device().str(), " kernel (", t.str(), ")");
  dispatch_index_type(op, t, f);
}

}  // namespace medtex
