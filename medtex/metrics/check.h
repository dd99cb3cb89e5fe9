// Input checks shared by the metric files (internal to medtex/metrics).
// Every failure throws medtex::Error whose message starts with the metric's
// name, so a bad call reads as one clear line (DESIGN §9).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "kernels/common/error.h"

namespace medtex::metrics::detail {

inline void check_nonempty(const char* metric, size_t n) {
  MT_CHECK(n > 0, metric, ": empty input");
}

inline void check_same_length(const char* metric, const char* what_a, size_t a, const char* what_b,
                              size_t b) {
  MT_CHECK(a == b, metric, ": ", what_a, " has ", a, " entries but ", what_b, " has ", b);
}

// A row-major [N, C] matrix: C > 0 and the length a multiple of C.
inline size_t rows_of(const char* metric, const char* what, size_t length, int columns) {
  MT_CHECK(columns > 0, metric, ": ", what, " needs at least one column, got ", columns);
  MT_CHECK(length % size_t(columns) == 0, metric, ": ", what, " has ", length,
           " values, not a multiple of ", columns, " columns");
  return length / size_t(columns);
}

inline void check_classes(const char* metric, const char* what, std::span<const int> v,
                          int num_classes) {
  MT_CHECK(num_classes > 0, metric, ": num_classes must be positive, got ", num_classes);
  for (size_t i = 0; i < v.size(); ++i) {
    MT_CHECK(v[i] >= 0 && v[i] < num_classes, metric, ": ", what, "[", i, "] = ", v[i],
             " is outside 0..", num_classes - 1);
  }
}

template <class T>
void check_not_nan(const char* metric, const char* what, std::span<const T> v) {
  for (size_t i = 0; i < v.size(); ++i) {
    MT_CHECK(!std::isnan(v[i]), metric, ": ", what, "[", i, "] is NaN");
  }
}

}  // namespace medtex::metrics::detail
