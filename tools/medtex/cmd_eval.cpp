// medtex eval: a model on labelled images (DESIGN §6): accuracy, macro-F1,
// per-class and macro AUC, quadratic-weighted kappa (multi-label: per-label
// and mean AUC), and with --teacher the agreement and KL with the teacher.
// Images are normalised with the statistics stored in each model file.
#include <cstdio>
#include <memory>
#include <string>

#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/train/evaluate.h"
#include "tools/medtex/command.h"
#include "tools/medtex/train_common.h"

namespace medtex::cli {
namespace {

struct EvalFlags {
  CommonFlags common;
  DeviceFlags dev;
  std::string model, data, teacher, json;
  int64_t batch = 64;
};

void run(const EvalFlags& f) {
  apply_common_flags(f.common);
  const DeviceChoice choice = resolve_device(f.dev);
  const std::string device = choice.description;
  const models::LoadedModel m = models::load_model(f.model);
  MT_CHECK(m.config.arch != "explainer", f.model,
           ": is an explainer (patch logits), not a classifier; evaluate its student, or use "
           "medtex explain");
  models::LoadedModel t;
  if (!f.teacher.empty()) {
    t = models::load_model(f.teacher);
    MT_CHECK(t.config.arch != "explainer", f.teacher, ": is an explainer, not a classifier");
  }
  const data::ImageSet set = load_labelled(f.data, m.config.input_size, model_classes(m.metadata));
  m.model->to(choice.device);
  if (t.model) t.model->to(choice.device);
  train::EvalOptions eo;
  eo.batch_size = f.batch;
  const train::EvalResult r = train::evaluate(*m.model, m.config, train::all_rows(set),
                                              t.model.get(), t.model ? &t.config : nullptr, eo);

  nlohmann::json j;
  j["command"] = "eval";
  j["model"] = f.model;
  j["data"] = f.data;
  if (!f.teacher.empty()) j["teacher"] = f.teacher;
  j["device"] = device;
  j["threads"] = num_threads();
  j["config"] = models::config_to_metadata(m.config);
  const auto method = m.metadata.find("medtex.method");
  if (method != m.metadata.end()) j["method"] = method->second;
  const auto priv = m.metadata.find("medtex.privileged");
  j["privileged"] = priv != m.metadata.end() && priv->second == "1";
  j["metrics"] = train::to_json(r);
  const std::string json_path = f.json.empty() ? beside(f.model, ".eval.json") : f.json;
  write_json_file(json_path, j);

  std::printf("eval: %s (%s%s) on %s\n", f.model.c_str(), m.config.arch.c_str(),
              j["privileged"].get<bool>() ? ", privileged: trained from source-domain weights" : "",
              f.data.c_str());
  print_eval(r, "metrics");
  std::printf("%.2f s, %.0f images/s on %d threads; json: %s\n", r.seconds, r.images_per_second,
              num_threads(), json_path.c_str());
}

void setup(CLI::App& app) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a model on labelled images (and its agreement with a teacher)");
  add_common_flags(*cmd, f->common);
  add_device_flags(*cmd, f->dev);
  cmd->add_option("--model", f->model, "Model file (.safetensors written by train or distill)")
      ->required();
  cmd->add_option("--data", f->data,
                  "Labelled images: CSV, folder with labels.csv, or class "
                  "folders")
      ->required();
  cmd->add_option("--teacher", f->teacher, "Teacher model: adds agreement and KL(teacher||model)");
  cmd->add_option("--batch", f->batch, "Images per forward pass")->capture_default_str();
  cmd->add_option("--json", f->json, "Results JSON (default: beside --model, .eval.json)");
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(eval, 40, medtex::cli::setup);
