#include "tests/support/tiny_cnn.h"

#include <cmath>

namespace medtex::test {

std::shared_ptr<nn::Sequential> tiny_cnn(Generator& gen) {
  auto net = std::make_shared<nn::Sequential>();
  const int widths[] = {1, 8, 16, 16};
  for (int i = 0; i < 3; ++i) {
    net->push_back(std::make_shared<nn::Conv2d>(widths[i], widths[i + 1], 3, 1, 1, false, gen));
    net->push_back(std::make_shared<nn::BatchNorm2d>(widths[i + 1]));
    net->push_back(std::make_shared<nn::ReLU>());
    if (i < 2) net->push_back(std::make_shared<nn::MaxPool2d>(2, 2));
  }
  net->push_back(std::make_shared<nn::GlobalAvgPool>());
  net->push_back(std::make_shared<nn::Linear>(16, 2, true, gen));
  return net;
}

Batch shapes_batch(int n, int size, Generator& gen) {
  Batch b{Tensor::zeros({n, 1, size, size}), Tensor::zeros({n}, DType::I64)};
  float* img = b.images.data<float>();
  int64_t* lab = b.labels.data<int64_t>();
  for (int i = 0; i < n; ++i) {
    const int label = int(gen.next_below(2));
    lab[i] = label;
    // Similar areas for both shapes, so brightness alone does not tell them apart.
    const double r = size * (0.18 + 0.12 * gen.next_uniform());
    const double half = r * std::sqrt(3.14159265 / 4);
    const double cx = r + 1 + gen.next_uniform() * (size - 2 * r - 2);
    const double cy = r + 1 + gen.next_uniform() * (size - 2 * r - 2);
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        const bool inside = label == 1 ? dx * dx + dy * dy <= r * r
                                       : std::abs(dx) <= half && std::abs(dy) <= half;
        const double noise = 0.2 * (gen.next_uniform() - 0.5);
        img[(int64_t(i) * size + y) * size + x] = float((inside ? 1.0 : 0.0) + noise);
      }
    }
  }
  return b;
}

}  // namespace medtex::test
