// What the train, distill and eval commands share: the --device flag, data
// loading with the model's classes, the JSON file, and the stdout tables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "medtex/data/loader.h"
#include "medtex/train/evaluate.h"
#include "medtex/train/trainer.h"
#include "models/model_io.h"

namespace medtex::cli {

// --device auto|cpu|cuda|emu and --kernels handwritten|vendor.
//   auto: the GPU when one is usable, else the CPU, after one line on stderr
//         in a CUDA build ("medtex: CUDA unavailable: <why>; running on CPU");
//   cuda: the GPU, or an error (never a silent fallback);
//   emu:  the CUDA kernels on the CPU under the SIMT emulator: slow, for
//         checking kernels and learning how they run, not for real training.
// --kernels vendor runs GEMM, conv and batch norm through cuBLAS/cuDNN (a real
// GPU only); everything else stays handwritten.
struct DeviceFlags {
  std::string device = "auto";
  std::string kernels = "handwritten";
};
void add_device_flags(CLI::App& cmd, DeviceFlags& flags);

struct DeviceChoice {
  Device device;
  std::string description;  // "cpu", "cuda:0 (NVIDIA H100 80GB HBM3, sm_90, handwritten kernels)"
};
// Selects the GPU backend (gpu::use) and the kernels; throws one clear line
// when the choice cannot be honoured.
DeviceChoice resolve_device(const DeviceFlags& flags);

// The run-bookkeeping flags `train` and `distill` share: checkpoints,
// --resume, progress, the JSON file.
struct RunFlags {
  std::string checkpoint, json;
  int64_t checkpoint_every = 0;
  bool resume = false;
  int64_t stop_after = -1;  // hidden: stop as if killed after N steps (tests of --resume)
  int64_t log_every = 0;
  bool quiet = false;
};
void add_run_flags(CLI::App& cmd, RunFlags& run);
// Copies them into the trainer's options; the checkpoint defaults to
// `out` with .ckpt.safetensors.
void apply_run_flags(const RunFlags& run, const std::string& out, train::TrainOptions& o);
// When a run stopped early (--stop-after), prints where its checkpoint is and
// returns true.
bool report_stopped(const char* command, const train::TrainResult& r,
                    const train::TrainOptions& o);
// --json, or `out` with .json.
std::string run_json_path(const RunFlags& run, const std::string& out);

// "runs/model.safetensors" + ".json" -> "runs/model.json" (the extension
// .safetensors, when there, is replaced).
std::string beside(const std::string& model_path, const std::string& suffix);

// Writes pretty JSON to `path` through a temporary file and a rename.
void write_json_file(const std::string& path, const nlohmann::json& j);

// The class names a model was trained with ("medtex.classes", a JSON list),
// empty when the file does not say.
std::vector<std::string> model_classes(const std::map<std::string, std::string>& metadata);
// Metadata naming the classes (and multi-label mode) of a training set.
std::map<std::string, std::string> class_metadata(const data::ImageSet& set);

// A labelled set (CSV, folder with labels.csv, or class folders) decoded at
// size x size; `classes` (when not empty) fixes the class order, so labels
// mean what the model's outputs mean.
data::ImageSet load_labelled(const std::string& path, int size,
                             const std::vector<std::string>& classes = {});
// Unlabelled images: a CSV with a path column (label columns, if any, are
// not read), a folder holding labels.csv, a plain folder of .png/.jpg/.jpeg
// images, or class folders (data::IndexOptions::paths_only).
data::ImageSet load_unlabeled(const std::string& path, int size);

// stdout tables.
void print_history(const train::TrainResult& r);
void print_eval(const train::EvalResult& r, const std::string& title);

}  // namespace medtex::cli
