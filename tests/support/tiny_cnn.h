// A small CNN and a two-class shape task (bright square vs bright disc) shared
// by the determinism and learning tests.
#pragma once

#include <memory>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace medtex::test {

// conv3x3(1->8)-BN-ReLU-maxpool2, conv3x3(8->16)-BN-ReLU-maxpool2,
// conv3x3(16->16)-BN-ReLU, global average pool, linear(16->2).
std::shared_ptr<nn::Sequential> tiny_cnn(Generator& gen);

struct Batch {
  Tensor images;  // [N, 1, S, S], float32
  Tensor labels;  // [N], int64: 0 = square, 1 = disc
};

// n images of size x size: a filled square or disc of random size and
// position on a noisy dark background. Deterministic in the generator.
Batch shapes_batch(int n, int size, Generator& gen);

}  // namespace medtex::test
