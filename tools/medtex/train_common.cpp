#include "tools/medtex/train_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "kernels/common/error.h"
#include "kernels/runtime/gpu.h"
#include "kernels/vendor/vendor.h"
#include "medtex/data/dataset.h"

namespace medtex::cli {

namespace fs = std::filesystem;

void add_run_flags(CLI::App& cmd, RunFlags& run) {
  cmd.add_option("--checkpoint", run.checkpoint,
                 "Checkpoint file (default: beside --out, .ckpt.safetensors)");
  cmd.add_option("--checkpoint-every", run.checkpoint_every,
                 "Also checkpoint every N steps (0: at the end of each epoch only)")
      ->capture_default_str();
  cmd.add_flag("--resume", run.resume, "Continue from the checkpoint (same settings required)");
  cmd.add_option("--stop-after", run.stop_after, "")->group("");
  cmd.add_option("--log-every", run.log_every,
                 "A progress line every N steps (0: every ~10 s); one per epoch regardless")
      ->capture_default_str();
  cmd.add_flag("--quiet", run.quiet, "No progress lines on stderr");
  cmd.add_option("--json", run.json, "Results JSON (default: beside --out, .json)");
}

void apply_run_flags(const RunFlags& run, const std::string& out, train::TrainOptions& o) {
  o.checkpoint = run.checkpoint.empty() ? beside(out, ".ckpt.safetensors") : run.checkpoint;
  o.checkpoint_every = run.checkpoint_every;
  o.resume = run.resume;
  o.stop_after = run.stop_after;
  o.log_every = run.log_every;
  o.quiet = run.quiet;
}

bool report_stopped(const char* command, const train::TrainResult& r,
                    const train::TrainOptions& o) {
  if (r.finished) return false;
  std::printf("%s: stopped after step %lld of %lld (--stop-after); checkpoint %s, continue with "
              "--resume\n",
              command, (long long)r.steps, (long long)r.total_steps, o.checkpoint.c_str());
  return true;
}

std::string run_json_path(const RunFlags& run, const std::string& out) {
  return run.json.empty() ? beside(out, ".json") : run.json;
}

void add_device_flags(CLI::App& cmd, DeviceFlags& flags) {
  cmd.add_option("--device", flags.device,
                 "Where to compute: auto (a GPU when usable, else the CPU), cpu, cuda, or emu "
                 "(the CUDA kernels under the CPU emulator: slow, for checking kernels)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda", "emu"}))
      ->capture_default_str();
  cmd.add_option("--kernels", flags.kernels,
                 "GPU kernels for GEMM, conv and batch norm: handwritten, or vendor "
                 "(cuBLAS/cuDNN, loaded at run time; a real GPU only)")
      ->check(CLI::IsMember({"handwritten", "vendor"}))
      ->capture_default_str();
}

DeviceChoice resolve_device(const DeviceFlags& flags) {
  const vendor::Kernels kernels =
      flags.kernels == "vendor" ? vendor::Kernels::kVendor : vendor::Kernels::kHandwritten;
  gpu::Backend backend = gpu::Backend::kNone;
  if (flags.device == "emu") {
    backend = gpu::Backend::kEmulated;
  } else if (flags.device == "cuda" || flags.device == "auto") {
    const gpu::Probe& p = gpu::probe_cuda();
    if (p.available) {
      backend = gpu::Backend::kCuda;
    } else if (flags.device == "cuda") {
      fail("--device cuda: CUDA unavailable: ", p.reason);
    } else if (MEDTEX_HAVE_CUDA) {
      // A CUDA build on a machine without a usable GPU says so, once. (A
      // build without CUDA has nothing to fall back from.)
      std::fprintf(stderr, "medtex: CUDA unavailable: %s; running on CPU\n", p.reason.c_str());
    }
  }
  if (backend == gpu::Backend::kNone) {
    MT_CHECK(kernels == vendor::Kernels::kHandwritten,
             "--kernels vendor needs a GPU (cuBLAS and cuDNN); this run is on the CPU");
    return {Device::cpu(), "cpu"};
  }
  gpu::use(backend);
  vendor::select(kernels);
  const gpu::DeviceInfo& info = gpu::info();
  std::string d = "cuda:0 (" + info.name;
  if (backend == gpu::Backend::kCuda)
    d += ", sm_" + std::to_string(info.cc_major) + std::to_string(info.cc_minor);
  d += std::string(", ") + vendor::kernels_name(kernels) + " kernels)";
  return {Device::cuda(), d};
}

std::string beside(const std::string& model_path, const std::string& suffix) {
  const std::string ext = ".safetensors";
  std::string stem = model_path;
  if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0) {
    stem.resize(stem.size() - ext.size());
  }
  return stem + suffix;
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    MT_CHECK(out.good(), path, ": cannot write");
    out << j.dump(2) << "\n";
    MT_CHECK(out.good(), path, ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  MT_CHECK(!ec, path, ": cannot rename the temporary file (", ec.message(), ")");
}

std::vector<std::string> model_classes(const std::map<std::string, std::string>& metadata) {
  const auto it = metadata.find("medtex.classes");
  if (it == metadata.end()) return {};
  try {
    return nlohmann::json::parse(it->second).get<std::vector<std::string>>();
  } catch (const std::exception&) {
    fail("metadata 'medtex.classes' is not a JSON list of names ('", it->second, "')");
  }
}

std::map<std::string, std::string> class_metadata(const data::ImageSet& set) {
  return {{"medtex.classes", nlohmann::json(set.classes).dump()},
          {"medtex.multi_label", set.multi_label ? "1" : "0"}};
}

data::ImageSet load_labelled(const std::string& path, int size,
                             const std::vector<std::string>& classes) {
  data::IndexOptions io;
  const data::Dataset probe = data::open_dataset(path, io);
  // Single-label data take the model's class order; multi-label data must
  // name the same labels in the same order.
  data::Dataset ds = probe;
  if (!classes.empty()) {
    if (probe.multi_label) {
      MT_CHECK(probe.classes == classes, path, ": labels ", nlohmann::json(probe.classes).dump(),
               " differ from the model's ", nlohmann::json(classes).dump());
    } else {
      io.classes = classes;
      ds = data::open_dataset(path, io);
    }
  }
  for (const std::string& w : ds.warnings) std::fprintf(stderr, "medtex: warning: %s\n", w.c_str());
  data::LoadOptions lo;
  lo.size = size;
  return data::load_images(ds, lo);
}

data::ImageSet load_unlabeled(const std::string& path, int size) {
  data::IndexOptions io;
  io.paths_only = true;  // an archive's labels, if any, are never used
  const data::Dataset ds = data::open_dataset(path, io);
  data::LoadOptions lo;
  lo.size = size;
  return data::load_images(ds, lo);
}

namespace {

std::string fmt(double v, const char* f = "%.4f") {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

void print_history(const train::TrainResult& r) {
  const bool ml = r.final_val.multi_label;
  std::printf("%5s %7s %10s %9s %9s %9s %9s %8s\n", "epoch", "steps", "train loss", "val loss",
              ml ? "val auc" : "val acc", "agree", "lr", "img/s");
  for (const train::EpochRecord& e : r.history) {
    std::printf("%5lld %7lld %10s %9s %9s %9s %9s %8.0f%s\n", (long long)e.epoch,
                (long long)e.steps, fmt(e.train_loss).c_str(), fmt(e.val_loss).c_str(),
                fmt(e.val_accuracy, "%.3f").c_str(), fmt(e.val_agreement, "%.3f").c_str(),
                fmt(e.lr, "%.2e").c_str(), e.images_per_second,
                r.kept == "best" && e.epoch == r.best_epoch ? "  <- kept" : "");
  }
}

void print_eval(const train::EvalResult& r, const std::string& title) {
  std::printf("%s: %lld images\n", title.c_str(), (long long)r.images);
  if (r.multi_label) {
    std::printf("  %-22s %s\n", "mean AUC", fmt(r.mean_auc).c_str());
    std::printf("  %-22s %s\n", "label accuracy", fmt(r.label_accuracy).c_str());
  } else {
    std::printf("  %-22s %s\n", "accuracy", fmt(r.accuracy).c_str());
    std::printf("  %-22s %s\n", "macro-F1", fmt(r.macro_f1).c_str());
    std::printf("  %-22s %s\n", "macro AUC (OvR)", fmt(r.macro_auc).c_str());
    std::printf("  %-22s %s\n", "quadratic kappa", fmt(r.kappa).c_str());
  }
  std::printf("  %-22s %s\n", r.multi_label ? "BCE (known labels)" : "cross-entropy",
              fmt(r.loss).c_str());
  if (r.has_teacher) {
    std::printf("  %-22s %s\n", "agreement w/ teacher", fmt(r.teacher_agreement).c_str());
    std::printf("  %-22s %s\n", "KL(teacher||model)", fmt(r.teacher_kl).c_str());
    if (r.multi_label) {
      std::printf("  %-22s %s\n", "teacher mean AUC", fmt(r.teacher_mean_auc).c_str());
    } else {
      std::printf("  %-22s %s\n", "teacher accuracy", fmt(r.teacher_accuracy).c_str());
    }
  }
  if (r.multi_label) {
    std::printf("  %-14s %8s\n", "label", "AUC");
    for (size_t l = 0; l < r.per_label_auc.size(); ++l) {
      std::printf("  %-14s %8s\n", l < r.classes.size() ? r.classes[l].c_str() : "?",
                  fmt(r.per_label_auc[l]).c_str());
    }
    return;
  }
  std::printf("  %-14s %7s %8s %8s\n", "class", "images", "F1", "AUC");
  for (size_t c = 0; c < r.per_class_auc.size(); ++c) {
    std::printf("  %-14s %7lld %8s %8s\n", c < r.classes.size() ? r.classes[c].c_str() : "?",
                (long long)r.class_counts[c], fmt(r.per_class_f1[c]).c_str(),
                fmt(r.per_class_auc[c]).c_str());
  }
}

}  // namespace medtex::cli
