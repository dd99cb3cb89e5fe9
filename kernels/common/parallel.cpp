#include "kernels/common/parallel.h"

#include <omp.h>

namespace medtex {

namespace {
int default_threads() {
  static const int n = omp_get_max_threads();
  return n;
}
}  // namespace

void set_num_threads(int n) {
  default_threads();  // remember the machine default before changing it
  omp_set_num_threads(n > 0 ? n : default_threads());
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace medtex
