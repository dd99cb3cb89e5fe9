// Loading a dataset for training: decode every image once, resize it to the
// training size and keep the set in memory as float tensors (ImageSet); then
// serve batches (Loader) in a deterministic order, augmented and normalised,
// each prepared on a worker thread while the previous one trains.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"
#include "medtex/data/augment.h"
#include "medtex/data/dataset.h"
#include "medtex/data/image_io.h"
#include "medtex/data/normalize.h"

namespace medtex::data {

struct LoadOptions {
  int size = 64;          // images become size x size
  Fit fit = Fit::kCrop;   // how a non-square image is made square
  bool skip_bad = false;  // leave out unreadable images with a warning instead of failing
};

// The decoded, resized set. Memory: N * 3 * size^2 floats (N = 10000 at 64 px
// is 0.5 GB), the price of decoding each file once.
struct ImageSet {
  int size = 0;
  bool multi_label = false;
  std::vector<std::string> classes;
  Tensor images;                      // float32 [N, 3, S, S], values in [0, 1]
  Tensor masks;                       // float32 [N, 1, S, S], lesion fraction of each pixel;
                                      //   undefined when the index has no mask column
  std::vector<uint8_t> has_mask;      // per row: 1 when its mask was given
  std::vector<int64_t> labels;        // single-label: class per row
  Tensor targets;                     // multi-label: float32 [N, K], 0 or 1
  Tensor known;                       // multi-label: float32 [N, K], 1 given, 0 blank
  std::vector<int64_t> sample;        // row -> index into Dataset::samples (stable ids)
  std::vector<std::string> warnings;  // skip_bad: the index's and the decoder's, one per file
  int64_t skipped = 0;                // files left out by the decoder

  int64_t rows() const { return int64_t(sample.size()); }
  std::vector<int64_t> strata() const;  // per row, as strata_of
};

// Decodes and resizes every sample in parallel (OpenMP). A bad file throws
// "<csv>:<line>: <file>: <what>" naming the first bad sample in index order;
// with skip_bad it is left out and reported in `warnings`.
ImageSet load_images(const Dataset& ds, const LoadOptions& opts);

struct LoaderOptions {
  int batch_size = 32;
  bool shuffle = true;     // a fresh permutation every epoch
  bool drop_last = false;  // leave out a last, smaller batch
  bool augment = false;
  AugmentOptions aug{};
  std::optional<Normalization> normalize{};
  int workers = 1;         // threads that fill one batch
  bool prefetch = true;    // prepare the next batch on a background thread
  int prefetch_depth = 2;  // batches ready ahead at most
};

struct Batch {
  Tensor images;          // float32 [B, 3, S, S]
  Tensor labels;          // int64 [B] (single-label)
  Tensor targets, known;  // float32 [B, K] (multi-label)
  Tensor masks;           // float32 [B, 1, S, S] when the set has masks (zeros where none given)
  std::vector<int64_t> rows;  // ImageSet rows in this batch
};

// Serves batches of the given rows. The order of epoch e is a Fisher-Yates
// permutation from gen.fork("order").fork("epoch e"); augmentation of a sample
// is drawn from gen.fork("augment"), offset e, by the sample's stable id, so
// a batch's contents are a pure function of (gen, epoch, batch index),
// whatever the thread count or prefetching. The ImageSet must outlive the
// loader (it is read, never copied).
class Loader {
 public:
  Loader(const ImageSet& set, std::vector<int64_t> rows, const LoaderOptions& opts,
         const Generator& gen);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Begins epoch `epoch` at batch `first_batch` (to resume a run mid-epoch).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the epoch; false when the epoch is over.
  bool next(Batch& out);
  int64_t batches_per_epoch() const;
  int64_t size() const { return int64_t(rows_.size()); }
  const std::vector<int64_t>& epoch_order() const { return order_; }
  // Batch b of the current epoch, built on the calling thread.
  Batch make_batch(int64_t b) const;

 private:
  void stop_worker();
  void run_worker(int64_t first_batch);

  const ImageSet& set_;
  std::vector<int64_t> rows_;
  LoaderOptions opts_;
  Generator order_gen_;
  PhiloxDraw aug_draw_{};
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t next_batch_ = 0;  // without prefetch

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace medtex::data
