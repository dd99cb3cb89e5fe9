// Element types and devices. float32 carries data; float64 exists so that
// every op's gradient can be checked by finite differences in double; int32
// and int64 carry labels and indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace medtex {

enum class DType { F32, F64, I32, I64 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "float32", ...
bool is_floating(DType t);

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::F64;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::I64;
};

// Where a tensor's storage lives. Dispatch (engine/dispatch.h) reads it; no
// other code tests for a device.
struct Device {
  enum class Kind { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  // The GPU. Which backend runs it (a real GPU or the SIMT emulator) is a
  // process-wide choice: gpu::use() in kernels/runtime/gpu.h.
  static Device cuda(int i = 0) { return {Kind::CUDA, i}; }
  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0"
};

}  // namespace medtex
