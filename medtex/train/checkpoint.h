// Training checkpoints: one .safetensors file holding everything a run needs
// to continue exactly where it stopped (DESIGN §8-§9).
//
// Tensors: "<net>.<name>" for each net's state dict (parameters and buffers:
// BatchNorm running statistics and counters), "optim.<name>" for the
// optimiser's state (Optimizer::state()), "best.<net>.<name>" for the best
// weights so far. Metadata: "medtex.checkpoint" = "1", the step, the run's
// settings as JSON (a resumed run must have the same), the generator states
// ("rng.<purpose>" = "seed stream offset scalar_index"), the history, and
// whatever the trainer adds. Written to a temporary file and renamed
// (save_safetensors), so a kill never leaves half a checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "engine/safetensors.h"

namespace medtex::train {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

// Every tensor of `m` under "<prefix>.", as deep copies when `copy`.
void add_module_tensors(TensorMap& out, const std::string& prefix, const nn::Module& m,
                        bool copy = false);

// The tensors of `file` under "<prefix>.", with the prefix removed.
TensorMap with_prefix(const TensorMap& all, const std::string& prefix);

// Loads the "<prefix>." tensors of a checkpoint into `m` (strict: every
// tensor present with the same shape); errors name the file and the tensor.
void load_module_tensors(const TensorMap& all, const std::string& prefix, nn::Module& m,
                         const std::string& path);

// Writes the checkpoint (tensors + optimiser state + metadata) atomically.
void write_checkpoint(const std::string& path, TensorMap tensors, const optim::Optimizer& opt,
                      Metadata metadata);

// Reads a checkpoint; fails with one line when the file is not a medtex
// training checkpoint (e.g. a model file).
SafetensorsFile read_checkpoint(const std::string& path);

// Puts the optimiser back in the state it had after `steps` steps: its state
// tensors ("optim.<name>") and its per-parameter counters ("optim.counters",
// int64 [parameters]: Adam's update counts, SGD's started flags). The
// parameters are not touched. A checkpoint written before the counters were
// saved gets every counter from `steps` (Adam: steps, SGD: steps > 0), which
// is right when every parameter had a gradient at every step, as for every
// net and objective of this project.
void restore_optimizer(optim::Optimizer& opt, const TensorMap& all, int64_t steps,
                       const std::string& path);

// Generator positions as metadata text, and back (errors name `where`).
std::string encode_generator(const Generator& g);
void decode_generator(const std::string& text, Generator& g, const std::string& where);

// The first setting where two flat JSON-like maps differ, as
// "key: checkpoint has A, this run has B"; empty when equal.
std::string first_difference(const Metadata& saved, const Metadata& now);

}  // namespace medtex::train
