// The portable sin/cos that keeps synthetic images and augmentation warps
// the same bits on every machine.
#include <cmath>

#include <gtest/gtest.h>

#include "medtex/data/portable_math.h"

namespace medtex::data {
namespace {

TEST(PortableMath, SinCosMatchLibmClosely) {
  double worst = 0.0;
  for (int i = -200000; i <= 200000; ++i) {
    const double x = i * 1e-4 * 3.3;  // [-66, 66], crossing many quadrants
    double s, c;
    portable_sincos(x, &s, &c);
    worst = std::max({worst, std::fabs(s - std::sin(x)), std::fabs(c - std::cos(x))});
  }
  EXPECT_LT(worst, 1e-14) << "largest difference from libm";
  double s, c;
  portable_sincos(0.0, &s, &c);
  EXPECT_EQ(s, 0.0);
  EXPECT_EQ(c, 1.0);
  portable_sincos(kPi / 2, &s, &c);
  EXPECT_NEAR(s, 1.0, 1e-16);
  EXPECT_NEAR(c, 0.0, 1e-16);
}

}  // namespace
}  // namespace medtex::data
