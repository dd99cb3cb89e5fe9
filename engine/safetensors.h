// Reading and writing .safetensors files: an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__":
// {string: string}}, then the raw little-endian tensor bytes. The format
// PyTorch users export weights in, so a teacher trained there loads here.
#pragma once

#include <map>
#include <string>

#include "engine/tensor.h"

namespace medtex {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Fails with one clear error naming the file on anything malformed: a short
// file, a header that is not JSON, offsets outside the data, an unknown dtype,
// overlapping or out-of-order tensors.
SafetensorsFile load_safetensors(const std::string& path);

// Writes to `path + ".tmp"` and renames, so a crash never leaves half a file.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace medtex
