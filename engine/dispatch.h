// The one place that decides where and in which precision an op runs.
//
// Ops call dispatch_float(op, tensor, f): it checks the device and the element
// type, then calls f with a value of the scalar type (float or double), so the
// op body can be written once as a generic lambda:
//
//   dispatch_float("relu", x, [&](auto zero) {
//     using T = decltype(zero);
//     cpu::relu_forward<T>(x.numel(), x.data<T>(), y.data<T>());
//   });
//
// Only the CPU backend exists so far; a tensor on another device fails here
// with a clear error, naming the op, until the CUDA backend lands.
#pragma once

#include <initializer_list>

#include "engine/tensor.h"

namespace medtex {

// Fails unless all defined tensors share one device and one dtype. Names the op.
void check_same_kind(const char* op, std::initializer_list<Tensor> tensors);

template <class F>
void dispatch_float(const char* op, const Tensor& t, F&& f) {
  MT_CHECK(t.device().is_cpu(), op, ": no kernel for device ", t.device().str(), " yet");
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

// Integer index tensors (labels): int32 or int64, on the CPU.
template <class F>
void dispatch_index(const char* op, const Tensor& t, F&& f) {
  MT_CHECK(t.device().is_cpu(), op, ": no kernel for device ", t.device().str(), " yet");
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

}  // namespace medtex
