#include "engine/rng.h"

#include "engine/dispatch.h"
#include "kernels/random/random.h"
#include "kernels/random/random_cuda.h"

namespace medtex {

namespace {
// Draw offset reserved for host scalars (next_u32 and friends).
constexpr uint32_t kScalarOffset = 0xFFFFFFFFu;

// FNV-1a, 32-bit: a fixed, documented mix of the parent stream and the purpose.
uint32_t mix_stream(uint32_t parent, std::string_view purpose) {
  uint32_t h = 2166136261u;
  auto eat = [&h](uint8_t byte) {
    h ^= byte;
    h *= 16777619u;
  };
  for (int i = 0; i < 4; ++i) eat(uint8_t(parent >> (8 * i)));
  for (char c : purpose) eat(uint8_t(c));
  return h;
}
}  // namespace

Generator Generator::fork(std::string_view purpose) const {
  return Generator(seed_, mix_stream(stream_, purpose));
}

PhiloxDraw Generator::next_draw() {
  MT_CHECK(offset_ != kScalarOffset, "Generator: stream ", stream_, " ran out of draws");
  return {seed_, stream_, offset_++};
}

uint32_t Generator::next_u32() {
  return philox_word(PhiloxDraw{seed_, stream_, kScalarOffset}, scalar_index_++);
}

double Generator::next_uniform() {
  const uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;  // 53 random bits
  return double(hi * 67108864 + lo) * (1.0 / 9007199254740992.0);
}

uint64_t Generator::next_below(uint64_t bound) {
  MT_CHECK(bound > 0, "Generator::next_below: bound must be positive");
  // Rejection sampling on 64-bit words keeps every value equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    const uint64_t x = (uint64_t{next_u32()} << 32) | next_u32();
    if (x < limit) return x % bound;
  }
}

void Generator::uniform_(Tensor& t, double lo, double hi) {
  const PhiloxDraw d = next_draw();
  dispatch(
      "uniform_", t,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::uniform_fill<T>(t.numel(), d, T(lo), T(hi), t.data<T>());
      },
      [&] {
        MT_GPU(uniform_fill)(t.numel(), d, float(lo), float(hi), t.data<float>(),
                             gpu::kRandomDefault);
      });
}

void Generator::normal_(Tensor& t, double mean, double stddev) {
  const PhiloxDraw d = next_draw();
  dispatch(
      "normal_", t,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::normal_fill<T>(t.numel(), d, T(mean), T(stddev), t.data<T>());
      },
      [&] {
        MT_GPU(normal_fill)(t.numel(), d, float(mean), float(stddev), t.data<float>(),
                            gpu::kRandomDefault);
      });
}

void Generator::set_state(const State& s) {
  seed_ = s.seed;
  stream_ = s.stream;
  offset_ = s.offset;
  scalar_index_ = s.scalar_index;
}

}  // namespace medtex
