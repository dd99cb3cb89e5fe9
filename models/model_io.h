// Building a net by name, and its weights files.
//
// A model file is a .safetensors file: the state dict (torchvision names for
// resnet18) and, in the string metadata, what is needed to rebuild the net:
//   "arch"         "resnet18" | "cnn-small" | "explainer"
//   "width"        the width multiplier, e.g. "0.5"
//   "num_classes"  e.g. "5" (resnet18, cnn-small)
//   "in_channels"  e.g. "3"
//   "input_size"   the square image size the model was trained at, e.g. "64"
//   "patch"        the explainer's patch size, e.g. "8"
//   "norm_mean", "norm_std"  JSON arrays, the per-channel normalisation the
//                  images went through before the model ("[]" when none)
// plus any extra keys the caller adds (run config, RNG state, ...).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/rng.h"

namespace medtex::models {

struct ModelConfig {
  std::string arch = "resnet18";  // "resnet18" | "cnn-small" | "explainer"
  double width = 1.0;             // channel multiplier (models/width.h)
  int num_classes = 5;            // classifier outputs; the explainer ignores it
  int in_channels = 3;
  int input_size = 64;  // training image size; the explainer checks it against patch
  int patch = 8;        // explainer only: power of two dividing input_size
  // Per-channel (x - mean) / std applied to images before the model; empty
  // when the images go in as they are. Kept with the weights so a model is
  // never fed differently normalised images.
  std::vector<double> norm_mean, norm_std;
};

// The architectures make_model knows, for help texts and error messages.
const std::vector<std::string>& known_architectures();

// Validates the config (one clear error line) and builds a freshly
// initialised net from `gen` (pass a generator forked for "init").
std::shared_ptr<nn::Module> make_model(const ModelConfig& config, Generator& gen);

// The config as metadata strings, and back. config_from_metadata fails naming
// `source` (a file name) and the key on a missing or malformed entry.
std::map<std::string, std::string> config_to_metadata(const ModelConfig& config);
ModelConfig config_from_metadata(const std::map<std::string, std::string>& metadata,
                                 const std::string& source);

// Writes the model's state dict and config (+ extra_metadata, whose keys must
// not clash with the config's) to `path`, atomically (temporary file + rename).
void save_model(const std::string& path, const nn::Module& model, const ModelConfig& config,
                const std::map<std::string, std::string>& extra_metadata = {});

struct LoadedModel {
  ModelConfig config;
  std::shared_ptr<nn::Module> model;
  std::map<std::string, std::string> metadata;  // everything in the file, extras included
};

// Rebuilds the architecture named in the file's metadata and loads the
// weights. With expect_arch non-empty, a file holding another architecture
// fails. Every failure is one line naming the file: truncated or malformed
// file, no medtex metadata (a bare state dict: use load_weights), a tensor
// missing or of the wrong shape (first offending tensor and both shapes).
LoadedModel load_model(const std::string& path, const std::string& expect_arch = "");

// Loads a bare state dict (e.g. torchvision's, exported from PyTorch) into an
// existing model; strict: every tensor must match by name, shape and dtype.
// Errors name the file and the first offending tensor with both shapes.
void load_weights(const std::string& path, nn::Module& model);

}  // namespace medtex::models
