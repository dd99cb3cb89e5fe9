// medtex explain: PNG overlays of the patches an explainer selects on each
// image, and the explanation metrics of medtex/explain/evaluate.h (the lesion
// metrics where the data has masks).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medtex/data/dataset.h"
#include "medtex/data/image_io.h"
#include "medtex/data/loader.h"
#include "medtex/explain/evaluate.h"
#include "medtex/explain/overlay.h"
#include "medtex/explain/patch_scores.h"
#include "medtex/report/report.h"
#include "medtex/train/batching.h"
#include "models/model_io.h"
#include "tools/medtex/command.h"
#include "tools/medtex/train_common.h"

namespace medtex::cli {
namespace {

namespace fs = std::filesystem;

struct ExplainFlags {
  CommonFlags common;
  DeviceFlags dev;
  std::string teacher, explainer, data, out;
  int k = 8;
  int64_t n = 16;
  int steps = 16;
};

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

void run(const ExplainFlags& f) {
  apply_common_flags(f.common);
  MT_CHECK(f.k >= 1, "explain: --k must be at least 1, got ", f.k);
  MT_CHECK(f.n >= 1, "explain: --n must be at least 1, got ", f.n);
  const DeviceChoice choice = resolve_device(f.dev);
  const models::LoadedModel teacher = models::load_model(f.teacher);
  const models::LoadedModel explainer = models::load_model(f.explainer, "explainer");
  teacher.model->to(choice.device);
  explainer.model->to(choice.device);
  const int size = teacher.config.input_size;
  MT_CHECK(explainer.config.input_size == size, "explain: the explainer (", f.explainer,
           ") was built for ", explainer.config.input_size, " px images, the teacher (",
           f.teacher, ") for ", size, " px");
  const data::Dataset ds = data::open_dataset(f.data);
  data::LoadOptions lo;
  lo.size = size;
  const data::ImageSet set = data::load_images(ds, lo);
  const int64_t m = std::min<int64_t>(f.n, set.rows());
  MT_CHECK(m > 0, "explain: ", f.data, " holds no images");
  train::DataRef ref;
  ref.set = &set;
  for (int64_t i = 0; i < m; ++i) ref.rows.push_back(i);
  const Tensor raw = train::gather_images(ref, 0, m);
  Tensor masks;
  if (set.masks.defined()) {
    const int64_t plane = int64_t(size) * size;
    masks = Tensor::empty({m, 1, size, size});
    std::copy(set.masks.data<float>(), set.masks.data<float>() + m * plane, masks.data<float>());
  }
  const int patch = explainer.config.patch;
  const int grid = size / patch;
  const int k = std::min<int>(f.k, grid * grid);
  const Tensor scores =
      explain::explainer_scores(*explainer.model, train::normalized(raw, explainer.config));
  const Tensor sel = explain::select_topk(scores, k);
  const std::vector<data::Image> overlays = explain::draw_overlays(raw, sel, grid, grid, masks);
  fs::create_directories(f.out);
  for (size_t i = 0; i < overlays.size(); ++i) {
    const fs::path img = fs::path(ds.samples[size_t(set.sample[i])].path).stem();
    data::write_png((fs::path(f.out) / (img.string() + "_overlay.png")).string(), overlays[i]);
  }
  data::write_png((fs::path(f.out) / "overlays.png").string(),
                  explain::compose_grid(overlays, 4));

  explain::EvaluateOptions eo;
  eo.k = k;
  eo.steps = f.steps;
  const explain::ExplanationEval e = explain::evaluate_explanations(
      *teacher.model, nullptr, train::normalized(raw, teacher.config), masks, scores, eo);
  std::printf("explain: %lld images, %d of %lld patches (%d px) -> %s (%s)\n", (long long)m, k,
              (long long)e.patches, patch, f.out.c_str(), choice.description.c_str());
  std::printf("  post-hoc accuracy   %.3f\n", e.post_hoc_accuracy);
  std::printf("  deletion AUC        %.3f (lower is better)\n", e.deletion_auc);
  std::printf("  insertion AUC       %.3f (higher is better)\n", e.insertion_auc);
  if (e.has_masks) {
    std::printf("  lesion precision@k  %.3f over %lld images with lesions\n",
                e.lesion_precision.value(), (long long)e.lesion_precision.evaluated);
    std::printf("  pointing game       %.3f\n", e.pointing_game.value());
  } else {
    std::printf("  (no lesion masks: no lesion precision or pointing game)\n");
  }
  nlohmann::json j;
  j["images"] = m;
  j["device"] = choice.description;
  j["k"] = k;
  j["patch"] = patch;
  j["post_hoc_accuracy"] = num(e.post_hoc_accuracy);
  j["deletion_auc"] = num(e.deletion_auc);
  j["insertion_auc"] = num(e.insertion_auc);
  if (e.has_masks) {
    j["lesion_precision"] = num(e.lesion_precision.value());
    j["pointing_game"] = num(e.pointing_game.value());
  }
  report::write_file_atomic((fs::path(f.out) / "explain.json").string(), j.dump(2));
}

void setup(CLI::App& app) {
  auto f = std::make_shared<ExplainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "explain", "PNG overlays of the patches an explainer selects, and the explanation metrics");
  add_common_flags(*cmd, f->common);
  add_device_flags(*cmd, f->dev);
  cmd->add_option("--teacher", f->teacher, "Teacher model (.safetensors)")->required();
  cmd->add_option("--explainer", f->explainer, "Explainer model (.safetensors)")->required();
  cmd->add_option("--data", f->data, "Images: a CSV, or a folder (labels.csv or class folders)")
      ->required();
  cmd->add_option("--out", f->out, "Output folder for the overlays and explain.json")->required();
  cmd->add_option("--k", f->k, "Patches selected per image")->capture_default_str();
  cmd->add_option("--n", f->n, "Images explained (the first n)")->capture_default_str();
  cmd->add_option("--steps", f->steps, "Deletion / insertion curve steps")->capture_default_str();
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(explain, 50, medtex::cli::setup);
