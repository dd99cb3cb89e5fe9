// The engine's one random number generator: Philox 4x32-10 (kernels/common/philox.h).
//
// A Generator is a seed plus a stream id. fork("purpose") gives an independent
// generator for one purpose (init, data order, augmentation, gumbel, ...), so
// adding draws for one purpose never shifts the numbers of another. Each call
// that fills a tensor takes the next draw offset; element i of that fill is a
// pure function of (seed, stream, offset, i), so any backend and any thread
// count produce the same numbers.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/tensor.h"
#include "kernels/common/philox.h"

namespace medtex {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint32_t stream = 0) : seed_(seed), stream_(stream) {}

  // Same seed, a stream derived from this one's and the purpose's name.
  Generator fork(std::string_view purpose) const;

  // Reserves the next draw (a counter space of 2^66 words) for one tensor fill.
  PhiloxDraw next_draw();

  // Host scalars, for shuffles and per-sample choices. They come from their own
  // reserved counter space and do not move the draw offset.
  uint32_t next_u32();
  double next_uniform();                // in [0, 1)
  uint64_t next_below(uint64_t bound);  // uniform in [0, bound), unbiased

  // Tensor fills, on the tensor's device: uniform in [lo, hi) (the same bits
  // on every backend), normal by Box-Muller (kernels/random/random_cuda.h:
  // on a GPU the last bit may differ, from CUDA's double log/sin/cos).
  void uniform_(Tensor& t, double lo, double hi);
  void normal_(Tensor& t, double mean, double stddev);

  uint64_t seed() const { return seed_; }
  uint32_t stream() const { return stream_; }
  // The position, for checkpoints: restoring it continues the same sequence.
  struct State {
    uint64_t seed;
    uint32_t stream;
    uint32_t offset;
    uint64_t scalar_index;
  };
  State state() const { return {seed_, stream_, offset_, scalar_index_}; }
  void set_state(const State& s);

 private:
  uint64_t seed_;
  uint32_t stream_;
  uint32_t offset_ = 0;
  uint64_t scalar_index_ = 0;
};

}  // namespace medtex
