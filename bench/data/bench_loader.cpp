// Data pipeline throughput, in images/s: rendering synthetic fundus images,
// decoding + resizing PNG files into the cache, and serving augmented
// batches. The files are a synthetic set of 128 px PNGs written once to a
// scratch folder (the size real pipelines decode from is larger; the rates
// scale with pixels).
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <filesystem>
#include <string>

#include "kernels/common/parallel.h"
#include "medtex/data/fundus_synth.h"
#include "medtex/data/loader.h"

namespace {

using namespace medtex;
using namespace medtex::data;

constexpr int64_t kFiles = 512;
constexpr int kFileSize = 128;

// The scratch set, written on first use and removed at exit.
struct Files {
  std::filesystem::path dir;
  Files() {
    dir = std::filesystem::temp_directory_path() /
          ("medtex_bench_loader_" + std::to_string(::getpid()));
    SynthOptions o;
    o.out_dir = dir.string();
    o.n = kFiles;
    o.size = kFileSize;
    o.seed = 1;
    o.force = true;
    write_synthetic_set(o);
  }
  ~Files() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static const Files& get() {
    static Files f;
    return f;
  }
};

// Rendering only (no PNG encoding), one thread: args = image side.
void BM_SynthRender(benchmark::State& state) {
  const int size = int(state.range(0));
  const DomainKnobs k = domain_preset("source");
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(render_fundus(1, i++, size, k));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynthRender)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

// Rendering + PNG encoding + writing (what `medtex synth` does), all threads;
// args = image side. 256 images per iteration.
void BM_SynthWrite(benchmark::State& state) {
  const int size = int(state.range(0));
  const auto dir =
      std::filesystem::temp_directory_path() / ("medtex_bench_synth_" + std::to_string(::getpid()));
  for (auto _ : state) {
    SynthOptions o;
    o.out_dir = dir.string();
    o.n = 256;
    o.size = size;
    o.force = true;
    benchmark::DoNotOptimize(write_synthetic_set(o));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  state.SetItemsProcessed(state.iterations() * 256);
  state.counters["threads"] = num_threads();
}
BENCHMARK(BM_SynthWrite)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

// Decode 128 px PNGs + resize to args px, into the cache, all threads.
void BM_DecodeResize(benchmark::State& state) {
  const Dataset ds = open_dataset(Files::get().dir.string());
  for (auto _ : state) benchmark::DoNotOptimize(load_images(ds, {.size = int(state.range(0))}));
  state.SetItemsProcessed(state.iterations() * ds.size());
  state.counters["threads"] = num_threads();
}
BENCHMARK(BM_DecodeResize)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

// Serving one epoch of augmented, normalised batches of 32 from the cache;
// args = {image side, workers}.
void BM_AugmentEpoch(benchmark::State& state) {
  const ImageSet set =
      load_images(open_dataset(Files::get().dir.string()), {.size = int(state.range(0))});
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < set.rows(); ++r) rows.push_back(r);
  LoaderOptions o{.batch_size = 32, .augment = true, .workers = int(state.range(1))};
  o.normalize = compute_normalization(set.images, rows);
  Loader loader(set, rows, o, Generator(1));
  int64_t epoch = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    Batch b;
    while (loader.next(b)) benchmark::DoNotOptimize(b.images.raw_data());
  }
  state.SetItemsProcessed(state.iterations() * set.rows());
}
BENCHMARK(BM_AugmentEpoch)
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({128, 1})
    ->Args({128, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The whole pipeline a training run starts with: decode + resize 128 -> 64,
// then one augmented epoch.
void BM_DecodeResizeAugment(benchmark::State& state) {
  const Dataset ds = open_dataset(Files::get().dir.string());
  for (auto _ : state) {
    const ImageSet set = load_images(ds, {.size = 64});
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < set.rows(); ++r) rows.push_back(r);
    Loader loader(set, rows, {.batch_size = 32, .augment = true, .workers = 2}, Generator(1));
    loader.start_epoch(0);
    Batch b;
    while (loader.next(b)) benchmark::DoNotOptimize(b.images.raw_data());
  }
  state.SetItemsProcessed(state.iterations() * ds.size());
}
BENCHMARK(BM_DecodeResizeAugment)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
