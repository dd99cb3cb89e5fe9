// sin and cos from + - * and floor only, so that the synthetic images and the
// augmentation warps are the same bits on every machine. libm's sin/cos are
// allowed to differ in the last place between library versions and CPUs; a
// last-place difference in a vessel angle moves an anti-aliased edge and
// changes a PNG byte. IEEE 754 fixes the result of + - * / and sqrt, and the
// build uses strict ISO C++ (no FMA contraction), so these polynomials give
// the same double on any conforming machine.
#pragma once

#include <cmath>

namespace medtex::data {

// Writes sin(x) and cos(x). Good to about 1e-15 absolute for |x| < 1e6.
//
// The maths: x = q * (pi / 2) + r with |r| <= pi / 4 (pi / 2 split into a head
// and a tail, Cody and Waite, so that q * head is nearly exact); then Taylor
// series of sin r and cos r up to r^15 and r^16: the first neglected term is
// below (pi/4)^17 / 17! < 2e-17. The quadrant q mod 4 picks the signs.
inline void portable_sincos(double x, double* s, double* c) {
  constexpr double kTwoOverPi = 0.63661977236758134308;
  constexpr double kPiOver2Hi = 1.5707963267341256e+00;  // 33 significant bits
  constexpr double kPiOver2Lo = 6.0771005065061922e-11;  // pi/2 - kPiOver2Hi
  const double q = std::floor(x * kTwoOverPi + 0.5);
  const double r = (x - q * kPiOver2Hi) - q * kPiOver2Lo;
  const double z = r * r;
  // Horner in z: sin r = r (1 - z/3! + z^2/5! - ...), cos r = 1 - z/2! + z^2/4! - ...
  double sp = 1.0 / 1307674368000.0;  // 1/15!
  sp = 1.0 / 6227020800.0 - z * sp;   // 1/13!
  sp = 1.0 / 39916800.0 - z * sp;     // 1/11!
  sp = 1.0 / 362880.0 - z * sp;       // 1/9!
  sp = 1.0 / 5040.0 - z * sp;         // 1/7!
  sp = 1.0 / 120.0 - z * sp;          // 1/5!
  sp = 1.0 / 6.0 - z * sp;            // 1/3!
  const double sr = r - r * z * sp;
  double cp = 1.0 / 20922789888000.0;  // 1/16!
  cp = 1.0 / 87178291200.0 - z * cp;   // 1/14!
  cp = 1.0 / 479001600.0 - z * cp;     // 1/12!
  cp = 1.0 / 3628800.0 - z * cp;       // 1/10!
  cp = 1.0 / 40320.0 - z * cp;         // 1/8!
  cp = 1.0 / 720.0 - z * cp;           // 1/6!
  cp = 1.0 / 24.0 - z * cp;            // 1/4!
  cp = 0.5 - z * cp;                   // 1/2!
  const double cr = 1.0 - z * cp;
  const double m = q - 4.0 * std::floor(q * 0.25);  // q mod 4, exact
  const int quadrant = int(m);
  switch (quadrant) {
    case 0:
      *s = sr;
      *c = cr;
      break;
    case 1:
      *s = cr;
      *c = -sr;
      break;
    case 2:
      *s = -sr;
      *c = -cr;
      break;
    default:
      *s = -cr;
      *c = sr;
      break;
  }
}

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace medtex::data
