// Philox 4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
// "Parallel Random Numbers: As Easy as 1, 2, 3" (SC'11). A pure function of a
// 128-bit counter and a 64-bit key, so any element of any stream can be drawn
// independently: a CUDA thread computes the very same numbers as the CPU loop.
//
// How medtex lays out its counters: one draw (a call that fills a tensor) is
// identified by a key (the seed), a stream id (the purpose: init, data order,
// augmentation, Gumbel noise, ...) and a draw offset. Element i of that draw is
// word i % 4 of philox({i / 4 (64 bits), stream, offset}, key).
#pragma once

#include <cstdint>

#include "kernels/common/hd.h"

namespace medtex {

struct PhiloxCounter {
  uint32_t v[4];
};
struct PhiloxKey {
  uint32_t v[2];
};

MT_HD PhiloxCounter philox4x32_10(PhiloxCounter c, PhiloxKey k) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key bumps
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k.v[0] += kW0;
      k.v[1] += kW1;
    }
    const uint64_t p0 = uint64_t{kM0} * c.v[0];
    const uint64_t p1 = uint64_t{kM1} * c.v[2];
    const PhiloxCounter n = {{uint32_t(p1 >> 32) ^ c.v[1] ^ k.v[0], uint32_t(p1),
                              uint32_t(p0 >> 32) ^ c.v[3] ^ k.v[1], uint32_t(p0)}};
    c = n;
  }
  return c;
}

// Identifies one draw: which generator (seed), which purpose (stream), which call (offset).
struct PhiloxDraw {
  uint64_t seed = 0;
  uint32_t stream = 0;
  uint32_t offset = 0;
};

// Words 4 * block .. 4 * block + 3 of a draw.
MT_HD PhiloxCounter philox_block(const PhiloxDraw& d, uint64_t block) {
  const PhiloxCounter c = {{uint32_t(block), uint32_t(block >> 32), d.stream, d.offset}};
  const PhiloxKey k = {{uint32_t(d.seed), uint32_t(d.seed >> 32)}};
  return philox4x32_10(c, k);
}

// The i-th 32-bit word of a draw.
MT_HD uint32_t philox_word(const PhiloxDraw& d, uint64_t i) {
  return philox_block(d, i >> 2).v[i & 3];
}

// Calls f(i, word_i) for i in [begin, end), generating each Philox block once
// (four words per 10-round evaluation) instead of once per word.
template <class F>
inline void for_each_philox_word(const PhiloxDraw& d, uint64_t begin, uint64_t end, F&& f) {
  uint64_t i = begin;
  while (i < end) {
    const PhiloxCounter b = philox_block(d, i >> 2);
    for (uint64_t j = i & 3; j < 4 && i < end; ++j, ++i) f(i, b.v[j]);
  }
}

// Uniform in the open interval (0, 1): 24 random bits, centred in their bucket,
// so that log(u) and log(1 - u) are always finite.
MT_HD float uniform_open01(uint32_t word) {
  return (float(word >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

}  // namespace medtex
