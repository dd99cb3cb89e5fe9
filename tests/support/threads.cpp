#include "tests/support/threads.h"

#include <gtest/gtest.h>

#include "kernels/common/parallel.h"
#include "tests/support/compare.h"

namespace medtex::test {

void expect_same_bits_across_threads(const std::function<std::vector<Tensor>()>& run,
                                     std::initializer_list<int> threads) {
  std::vector<Tensor> ref;
  int ref_threads = 0;
  for (int n : threads) {
    set_num_threads(n);
    const std::vector<Tensor> got = run();
    if (ref.empty()) {
      ref = got;
      ref_threads = n;
      continue;
    }
    ASSERT_EQ(got.size(), ref.size());
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_TRUE(bitwise_equal(got[k], ref[k]))
          << "result " << k << " differs between " << ref_threads << " and " << n << " threads";
    }
  }
  set_num_threads(0);
}

}  // namespace medtex::test
