// Tensor comparison for tests: |actual - expected| <= atol + rtol * |expected|
// elementwise. On failure the message lists the first mismatches with their
// flat index, so a wrong kernel shows where it goes wrong.
#pragma once

#include <gtest/gtest.h>

#include "engine/tensor.h"

namespace medtex::test {

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol);

// Largest |a - b| over all elements (both converted to double).
double max_abs_diff(const Tensor& a, const Tensor& b);

// Bitwise equality of two tensors' bytes (same shape and dtype required).
bool bitwise_equal(const Tensor& a, const Tensor& b);

}  // namespace medtex::test
