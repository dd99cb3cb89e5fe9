// A shape is a list of extents, outermost first (NCHW for images).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace medtex {

// A vector of extents with a printable form. It is its own type (not an alias)
// so that `os << shape` and error messages find shape_str by argument lookup.
struct Shape : std::vector<int64_t> {
  using std::vector<int64_t>::vector;
  Shape(const std::vector<int64_t>& v) : std::vector<int64_t>(v) {}  // NOLINT: implicit on purpose
  int ndim() const { return int(size()); }
};

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[2, 3, 5, 5]"
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << shape_str(s); }

// Resolves a possibly negative dimension index against ndim, with a clear error.
int normalize_dim(const char* op, int dim, int ndim);

}  // namespace medtex
