// The window geometry the pooling launchers accept, checked once for both
// (cpu::MaxPool2dParams and cpu::AvgPool2dParams have the same fields): the
// GPU kernels index a plane in 32 bits.
#pragma once

#include <cstdint>

#include "kernels/common/error.h"

namespace medtex {

template <class PoolParams>
void check_pool_geometry(const char* op, const PoolParams& p) {
  MT_CHECK(p.planes >= 0 && p.h >= 0 && p.w >= 0 && p.oh >= 0 && p.ow >= 0 &&
               p.h * p.w <= INT32_MAX && p.oh * p.ow <= INT32_MAX && p.kernel >= 1 &&
               p.stride >= 1 && p.padding >= 0,
           op, ": bad geometry: planes=", p.planes, " ", p.h, "x", p.w, " -> ", p.oh, "x", p.ow,
           " kernel ", p.kernel, " stride ", p.stride, " padding ", p.padding);
}

}  // namespace medtex
