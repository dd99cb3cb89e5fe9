// medtex demo: the whole study on the embedded synthetic data
// (medtex/study/demo_study.h): teacher on the source archive, students on the
// clinic with scratch / transfer / kd / medtex across labelled-set sizes,
// explanations, the comparison table on stdout, results.json and report.html.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "medtex/study/demo_study.h"
#include "tools/medtex/command.h"
#include "tools/medtex/train_common.h"

namespace medtex::cli {
namespace {

struct DemoFlags {
  CommonFlags common;
  DeviceFlags dev;
  bool quick = false;
  std::string out = "out/demo";
  int seeds = 0;  // 0: 1 with --quick, else 3
  bool same_domain = false;
  bool verbose = false;
  // Overrides of the study's sizes (0 / empty: the preset's).
  int size = 0, patch = 0;
  int64_t source_images = 0, clinic_images = 0, steps = 0, explain_images = 0;
  int teacher_epochs = 0;
  double teacher_width = 0;
  std::vector<int64_t> ns;
};

// The command line for the report, read back from /proc (the command
// registry does not pass argv to the commands).
std::vector<std::string> command_line() {
  std::vector<std::string> args;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string a;
  while (std::getline(in, a, '\0')) args.push_back(a);
  if (args.empty()) args.push_back("medtex");
  return args;
}

void run(const DemoFlags& f) {
  apply_common_flags(f.common);
  const DeviceChoice choice = resolve_device(f.dev);
  const auto t0 = std::chrono::steady_clock::now();
  study::StudyConfig c = f.quick ? study::quick_config() : study::StudyConfig{};
  c.work_dir = f.out;
  c.seed = f.common.seed;
  c.same_domain = f.same_domain;
  c.device = choice.device;
  if (f.seeds > 0) c.seeds = f.seeds;
  c.quiet_training = !f.verbose;
  if (f.size > 0) c.image_size = f.size;
  // The patch grid stays 8 x 8 (d = 64) unless --patch says otherwise.
  if (f.patch > 0) {
    c.patch = f.patch;
  } else if (f.size > 0) {
    c.patch = std::max(1, f.size / 8);
  }
  if (f.source_images > 0) c.source_images = f.source_images;
  if (f.clinic_images > 0) c.clinic_images = f.clinic_images;
  if (f.steps > 0) c.student_steps = f.steps;
  if (f.explain_images > 0) c.explain_images = f.explain_images;
  if (f.teacher_epochs > 0) c.teacher_epochs = f.teacher_epochs;
  if (f.teacher_width > 0) c.teacher_width = f.teacher_width;
  if (!f.ns.empty()) c.labelled_sizes = f.ns;
  c.on_stage = [t0](const std::string& line) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "%s [%.0f s]\n", line.c_str(), s);
  };
  if (f.quick) {
    std::printf("medtex demo --quick: a pipeline test at tiny sizes (%d px, %lld + %lld images, "
                "1 seed, a few steps); its numbers mean nothing. Run `medtex demo` for the "
                "study.\n",
                c.image_size, (long long)c.source_images, (long long)c.clinic_images);
  }
  const nlohmann::json res = study::run_study(c);
  std::printf("\n%s\n%s", study::format_results_table(res).c_str(),
              study::format_explanation_table(res).c_str());
  const std::vector<std::string> args = command_line();
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  study::write_study_outputs(res, c, int(argv.size()), argv.data());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nresults: %s/results.json, report: %s/report.html (%.1f s in all)\n",
              f.out.c_str(), f.out.c_str(), s);
}

void setup(CLI::App& app) {
  auto f = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "The whole study on synthetic fundus data: teacher, students (scratch, transfer, "
              "kd, medtex) across labelled-set sizes, explanations, table and report");
  add_common_flags(*cmd, f->common);
  add_device_flags(*cmd, f->dev);
  cmd->add_flag("--quick", f->quick, "Tiny sizes, under a minute: a test of the pipeline only");
  cmd->add_option("--out", f->out, "Work folder (data, models, results.json, report.html)")
      ->capture_default_str();
  cmd->add_option("--seeds", f->seeds, "Seeds per setting (default 3; 1 with --quick)");
  cmd->add_flag("--same-domain", f->same_domain,
                "Draw the clinic from the source camera (the MED-TEX paper's setting)");
  cmd->add_flag("--verbose", f->verbose, "Show the trainers' progress lines");
  const study::StudyConfig dc;
  const std::string d = " (default ";
  cmd->add_option("--size", f->size, "Image side in pixels" + d + std::to_string(dc.image_size) +
                                         "; 32 with --quick)");
  cmd->add_option("--patch", f->patch,
                  "Explainer patch side in pixels, a power of two (default: size / 8, an 8 x 8 "
                  "grid)");
  cmd->add_option("--source-images", f->source_images,
                  "Source archive size" + d + std::to_string(dc.source_images) + ")");
  cmd->add_option("--clinic-images", f->clinic_images,
                  "Clinic images, pool + test" + d + std::to_string(dc.clinic_images) + ")");
  cmd->add_option("--n", f->ns, "Labelled-set sizes, e.g. --n 50 200 (default 50 200)");
  cmd->add_option("--steps", f->steps,
                  "Optimiser steps per student" + d + std::to_string(dc.student_steps) + ")");
  cmd->add_option("--teacher-epochs", f->teacher_epochs,
                  "Teacher epochs" + d + std::to_string(dc.teacher_epochs) + ")");
  cmd->add_option("--teacher-width", f->teacher_width, "Teacher width multiplier (default 0.5)");
  cmd->add_option("--explain-images", f->explain_images,
                  "Test images for the explanations" + d + std::to_string(dc.explain_images) +
                      ")");
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(demo, 60, medtex::cli::setup);
