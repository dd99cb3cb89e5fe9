// Thread-count invariance: the CPU kernels promise the same bits for any
// number of threads (kernels/common/parallel.h). This runs a computation
// under several thread counts and checks that promise.
#pragma once

#include <functional>
#include <initializer_list>
#include <vector>

#include "engine/tensor.h"

namespace medtex::test {

// Calls run() once per thread count and EXPECTs every tensor it returns to be
// bitwise equal to the one the first count gave. Restores the default count.
void expect_same_bits_across_threads(const std::function<std::vector<Tensor>()>& run,
                                     std::initializer_list<int> threads = {1, 2, 3});

}  // namespace medtex::test
