// medtex synth: writes a synthetic fundus set (PNG images, lesion masks,
// labels.csv) and prints how many images of each grade it made.
#include <cstdio>
#include <memory>
#include <string>

#include "medtex/data/fundus_synth.h"
#include "tools/medtex/command.h"

namespace medtex::cli {
namespace {

struct SynthFlags {
  CommonFlags common;
  std::string out;
  int64_t n = 1000;
  int size = 64;
  std::string preset = "source";
  bool preview = false;
  bool force = false;
};

void run(const SynthFlags& f) {
  apply_common_flags(f.common);
  data::SynthOptions o;
  o.out_dir = f.out;
  o.n = f.n;
  o.size = f.size;
  o.preset = f.preset;
  o.seed = f.common.seed;
  o.preview = f.preview;
  o.force = f.force;
  const data::SynthSummary s = data::write_synthetic_set(o);
  std::printf("synth: %lld images of %dx%d, preset %s, seed %llu -> %s\n", (long long)f.n, f.size,
              f.size, f.preset.c_str(), (unsigned long long)f.common.seed, f.out.c_str());
  std::printf("  grade  images  lesion px/image\n");
  for (int g = 0; g < data::kNumGrades; ++g) {
    std::printf("  %5d  %6lld  %15.1f\n", g, (long long)s.per_grade[g], s.mean_lesion_pixels[g]);
  }
  std::printf("  %.2f s, %.0f images/s on %d threads\n", s.seconds,
              s.seconds > 0 ? double(f.n) / s.seconds : 0.0, s.threads);
  if (f.preview) std::printf("  preview: %s/preview.png\n", f.out.c_str());
}

void setup(CLI::App& app) {
  auto f = std::make_shared<SynthFlags>();
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a synthetic fundus set: images/, masks/ (lesion kind x 50), labels.csv");
  add_common_flags(*cmd, f->common);
  cmd->add_option("--out", f->out, "Output folder (must be empty unless --force)")->required();
  cmd->add_option("--n", f->n, "Number of images")->capture_default_str();
  cmd->add_option("--size", f->size, "Image side in pixels (16..4096)")->capture_default_str();
  cmd->add_option("--preset", f->preset, "Domain: source (archive camera) or target (clinic)")
      ->capture_default_str();
  cmd->add_flag("--preview", f->preview, "Also write preview.png: samples per grade with masks");
  cmd->add_flag("--force", f->force, "Write into a non-empty folder, replacing a previous set");
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(synth, 10, medtex::cli::setup);
