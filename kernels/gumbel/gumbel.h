// Standard Gumbel noise, g = -log(-log(u)), u uniform in (0, 1), for the
// relaxed top-k of the explainer. The fill overwrites its output.
//
// Bit-for-bit on every backend. u comes from the Philox stream
// (kernels/common/philox.h), which is exact integer arithmetic. The logarithm
// cannot be the C library's: CUDA's logf and glibc's logf differ in the last
// bit for some inputs. So the transform below is written once, as MT_HD code
// that uses only IEEE-754 basic operations (+, -, *, / in round-to-nearest,
// comparisons, and bit copies via memcpy), whose results are fully specified
// by the standard. Two compiler liberties could still change bits, and both
// are shut off:
//  - contraction of a * b + c into a fused multiply-add: on the device every
//    operation goes through __fmul_rn / __fadd_rn / __fsub_rn / __fdiv_rn,
//    which nvcc documents as never merged into an FMA; on the host the whole
//    build passes -ffp-contract=off (GCC contracts in ISO C++ too when the
//    target has FMA, e.g. -march=haswell; checked), and every operation here
//    is its own function call anyway;
//  - fast-math (-ffast-math, --use_fast_math): never used for these files.
// (uniform_open01's float steps are exact and an add before a multiply, so
// there is nothing to contract there.) Checked with nvcc 13.0 for sm_90: the
// PTX of gumbel_at holds add/sub/mul/div.rn.f32 only, no fma. Not yet run on
// a GPU: the CUDA test of this op must compare bits with the CPU twin.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/common/hd.h"
#include "kernels/common/philox.h"

namespace medtex {

// Correctly rounded single operations that no compiler fuses or reorders.
MT_HD float rn_add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
MT_HD float rn_sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
MT_HD float rn_mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MT_HD float rn_div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

MT_HD float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Natural logarithm of a float from basic operations only. Measured against
// std::log in double over all 2^31 positive finite floats: at most 0.858 ulp
// from the exact value (tests/engine/ops/test_gumbel.cpp repeats this on a
// sample and on every value uniform_open01 can produce).
//
// The maths: x = 2^k * m with m in [sqrt(1/2), sqrt(2)), so
// log(x) = k log 2 + log(m). With f = m - 1 (exact, by Sterbenz's lemma) and
// s = f / (2 + f), |s| < 0.1716:
//   log(m) = log((1 + s) / (1 - s)) = 2 atanh(s) = 2s + s R(z),
//   R(z) = 2z/3 + 2z^2/5 + 2z^3/7 + 2z^4/9 + ...,  z = s^2 < 0.0295,
// truncated after z^4: the next term, 2 z^5 / 11 * s, is below 1e-9 of log(m).
// The division that makes s rounds, so 2s is rewritten around the exact f:
// since s f = f^2 / (2 + f) = hf - s hf with hf = f^2 / 2,
//   log(m) = f - (hf - s (hf + R)),
// where the rounding of s only touches the small correction term. log 2 is
// split into a 16-bit head (so k * head is exact for any float exponent) and
// a float tail.
MT_HD float portable_logf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if (x == 0.0f) return float_from_bits(0xff800000u);  // log(+-0) = -inf
  if (x != x) return x;
  if (bits >= 0x80000000u) return float_from_bits(0x7fc00000u);  // negative: NaN
  if (bits >= 0x7f800000u) return x;                             // +inf
  int k = 0;
  if (bits < 0x00800000u) {     // subnormal: scale into the normal range (exact)
    x = rn_mul(x, 8388608.0f);  // 2^23
    std::memcpy(&bits, &x, sizeof bits);
    k = -23;
  }
  k += int(bits >> 23) - 127;
  uint32_t mbits = (bits & 0x007fffffu) | 0x3f800000u;  // m in [1, 2)
  if (mbits > 0x3fb504f3u) {                            // m > sqrt(2): use m / 2
    mbits -= 0x00800000u;
    k += 1;
  }
  const float m = float_from_bits(mbits);

  constexpr float kLn2Hi = 0x1.62e4p-1f;     // log 2 rounded to 16 bits
  constexpr float kLn2Lo = 0x1.7f7d1cp-20f;  // log 2 - kLn2Hi, rounded to float
  constexpr float kC1 = 2.0f / 3.0f, kC2 = 2.0f / 5.0f, kC3 = 2.0f / 7.0f, kC4 = 2.0f / 9.0f;

  const float f = rn_sub(m, 1.0f);
  const float s = rn_div(f, rn_add(2.0f, f));
  const float z = rn_mul(s, s);
  const float R =
      rn_mul(z, rn_add(kC1, rn_mul(z, rn_add(kC2, rn_mul(z, rn_add(kC3, rn_mul(z, kC4)))))));
  const float hf = rn_mul(0.5f, rn_mul(f, f));
  const float kf = float(k);
  const float tail = rn_add(rn_mul(s, rn_add(hf, R)), rn_mul(kf, kLn2Lo));
  return rn_add(rn_mul(kf, kLn2Hi), rn_sub(f, rn_sub(hf, tail)));
}

// g = -log(-log(u)) for u in (0, 1). Negation is exact.
MT_HD float gumbel_from_uniform(float u) {
  return -portable_logf(-portable_logf(u));
}

// Element i of a Gumbel draw.
MT_HD float gumbel_at(const PhiloxDraw& draw, uint64_t i) {
  return gumbel_from_uniform(uniform_open01(philox_word(draw, i)));
}

namespace cpu {

// out: [n]. out[i] = gumbel_at(draw, i), computed in float and widened for
// double, so both dtypes carry the same noise.
template <class T>
void gumbel_fill(int64_t n, const PhiloxDraw& draw, T* out);

}  // namespace cpu

}  // namespace medtex
