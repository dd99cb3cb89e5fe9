#include "engine/dtype.h"

namespace medtex {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F64:
    case DType::I64:
      return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::F64:
      return "float64";
    case DType::I32:
      return "int32";
    case DType::I64:
      return "int64";
  }
  return "?";
}

bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }

std::string Device::str() const {
  return kind == Kind::CPU ? std::string("cpu") : "cuda:" + std::to_string(index);
}

}  // namespace medtex
