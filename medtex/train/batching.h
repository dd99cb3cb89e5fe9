// What the trainers and the evaluation read: rows of a decoded image set, and
// the small tensor chores around them (a model's input normalisation, gathering
// rows into a batch, joining two batches).
//
// Images stay in [0, 1] in the ImageSet and in the loader's batches; each net
// normalises them with the statistics in its own ModelConfig (norm_mean /
// norm_std) right before its forward pass. A teacher trained elsewhere and the
// student trained here usually have different statistics, so one batch goes
// into each with its own normalisation, and evaluation reuses the numbers the
// model was trained with, never recomputed ones.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/nn/module.h"
#include "engine/tensor.h"
#include "medtex/data/loader.h"
#include "models/model_io.h"

namespace medtex::train {

// Rows of a decoded set. `set` null or `rows` empty: no data.
struct DataRef {
  const data::ImageSet* set = nullptr;
  std::vector<int64_t> rows;  // ImageSet rows, each once

  bool empty() const { return set == nullptr || rows.empty(); }
  int64_t size() const { return set == nullptr ? 0 : int64_t(rows.size()); }
};

// Every row of `set`.
DataRef all_rows(const data::ImageSet& set);

// x: float32 [N, C, H, W] in [0, 1] -> (x - mean[c]) / std[c] with the
// config's statistics, as a new tensor; x itself when the config has none.
Tensor normalized(const Tensor& x, const models::ModelConfig& config);

// The statistics of DESIGN §7 over the training images, which may come from
// two sets (the labelled images and the unlabelled archive): per-channel mean
// and population standard deviation over every pixel of every listed row, in
// double, in row order (so the numbers do not depend on threads); a channel
// with (almost) no spread gets std 1.
void compute_normalization(const std::vector<const DataRef*>& sources, models::ModelConfig& config);

// Rows [begin, end) of `data`, copied into float32 [end - begin, 3, S, S]
// (not normalised).
Tensor gather_images(const DataRef& data, int64_t begin, int64_t end);

// Labels of rows [begin, end): int64 [n] (single-label), or targets and known
// float32 [n, K] (multi-label).
Tensor gather_labels(const DataRef& data, int64_t begin, int64_t end);
void gather_targets(const DataRef& data, int64_t begin, int64_t end, Tensor& targets,
                    Tensor& known);

// Concatenation along dim 0 of two tensors that agree on every other extent
// and on the dtype (no graph; these are data, not activations). Either may be
// undefined, giving the other.
Tensor concat_rows(const Tensor& a, const Tensor& b);

// The model's logits on every row of `data`, batch_size images at a time, in
// eval mode (restored after) and without a graph: float32 [N, num_outputs].
Tensor predict_logits(nn::Module& model, const models::ModelConfig& config, const DataRef& data,
                      int64_t batch_size = 64);

// Checks that a model can read this set: same image size as it was built
// for, and as many outputs as the set has classes (or labels). One line,
// naming `what` ("teacher", "student", ...), otherwise.
void check_model_fits(const models::ModelConfig& config, const data::ImageSet& set,
                      const char* what);

}  // namespace medtex::train
