// Comparing a GPU kernel's output with its CPU twin, for the elementwise,
// reduce and softmax/loss CUDA tests.
//
// `exact`: the kernel does the CPU twin's arithmetic in the CPU twin's order.
// Under the emulator that must give the same bits: the kernel source is
// compiled by the same g++ with the same flags (x86-64 baseline: no FMA to
// contract into) and calls the same glibc exp/log. On a real GPU it cannot:
// CUDA's exp/log/expf are within 1-2 ulp of glibc's and nvcc contracts
// a * b + c into FMAs, so there (and wherever the order of a sum differs)
// the stated tolerance applies. MT_PRINT_DIFFS=1 prints every comparison's
// max |diff|, for the measured figures in kernels/README.md.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "tests/support/compare.h"

namespace medtex::test {

inline void print_diff(const std::string& what, const Tensor& got, const Tensor& want) {
  static const bool on = std::getenv("MT_PRINT_DIFFS") != nullptr;
  if (on) std::printf("  max|diff| %-60s %.3g\n", what.c_str(), max_abs_diff(got, want));
}

// exact_here: exact && running under the emulator (GpuTest::emulated()).
inline ::testing::AssertionResult matches_cpu(const std::string& what, const Tensor& got,
                                              const Tensor& want, bool exact_here, double atol,
                                              double rtol) {
  const Tensor g = got.to(Device::cpu()), w = want.to(Device::cpu());
  print_diff(what, g, w);
  if (!exact_here) return all_close(g, w, atol, rtol);
  if (bitwise_equal(g, w)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": not bitwise the CPU twin's result: "
                                       << all_close(g, w, 0, 0).message();
}

}  // namespace medtex::test
