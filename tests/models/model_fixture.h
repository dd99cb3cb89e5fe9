// Shared by the model tests: a model's state dict as PyTorch wrote it into a
// fixture file (tensors named "<case>.state.<name>").
#pragma once

#include <map>
#include <string>

#include "engine/safetensors.h"

namespace medtex::test {

inline std::map<std::string, Tensor> fixture_state(const std::string& op, const std::string& c) {
  const SafetensorsFile file =
      load_safetensors(std::string(MEDTEX_FIXTURE_DIR) + "/ops/" + op + ".safetensors");
  const std::string prefix = c + ".state.";
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : file.tensors) {
    if (name.rfind(prefix, 0) == 0) state.emplace(name.substr(prefix.size()), t);
  }
  return state;
}

}  // namespace medtex::test
