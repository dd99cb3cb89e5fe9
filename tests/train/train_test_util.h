// Helpers for the trainer tests: small synthetic fundus sets built in memory
// (no files), tiny nets, and bitwise comparison of state dicts.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/module.h"
#include "medtex/data/fundus_synth.h"
#include "medtex/data/loader.h"
#include "models/model_io.h"

namespace medtex::test {

// n images of the synthetic fundus generator at size x size, labels = grade.
inline data::ImageSet synth_set(int64_t n, int size, const std::string& preset = "source",
                                uint64_t seed = 1, int64_t first_index = 0) {
  data::ImageSet set;
  set.size = size;
  set.classes = {"0", "1", "2", "3", "4"};
  set.images = Tensor::empty({n, 3, size, size});
  const data::DomainKnobs knobs = data::domain_preset(preset);
  const int64_t plane = int64_t(3) * size * size;
  for (int64_t i = 0; i < n; ++i) {
    const data::SynthSample s = data::render_fundus(seed, first_index + i, size, knobs);
    data::image_to_chw(s.image, size, data::Fit::kCrop, set.images.data<float>() + i * plane);
    set.labels.push_back(s.grade);
    set.sample.push_back(first_index + i);
    set.has_mask.push_back(0);
  }
  return set;
}

inline models::ModelConfig tiny_config(const std::string& arch, int size, double width) {
  models::ModelConfig c;
  c.arch = arch;
  c.width = width;
  c.num_classes = 5;
  c.input_size = size;
  return c;
}

// Every tensor of the two state dicts has the same bytes.
inline ::testing::AssertionResult same_state(const nn::Module& a, const nn::Module& b) {
  const auto sa = a.state_dict(), sb = b.state_dict();
  if (sa.size() != sb.size()) return ::testing::AssertionFailure() << "different tensor counts";
  for (const auto& [name, t] : sa) {
    const auto it = sb.find(name);
    if (it == sb.end()) return ::testing::AssertionFailure() << "missing " << name;
    const Tensor& u = it->second;
    if (t.shape() != u.shape() || t.dtype() != u.dtype() ||
        std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()) != 0) {
      return ::testing::AssertionFailure() << "tensor " << name << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace medtex::test
