#include "engine/shape.h"

#include "kernels/common/error.h"

namespace medtex {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t e : s) n *= e;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int normalize_dim(const char* op, int dim, int ndim) {
  const int d = dim < 0 ? dim + ndim : dim;
  MT_CHECK(d >= 0 && d < ndim, op, ": dim ", dim, " out of range for a ", ndim, "-d tensor");
  return d;
}

}  // namespace medtex
