// The built program end to end on the demo study: `medtex demo --quick` runs
// the whole pipeline (synthesis, teacher, four student methods at two labelled
// sizes, explanations, report) and writes results.json with every method and
// n and numbers in range; `medtex explain` then draws overlays from the demo's
// teacher and explainer. The quick sizes make the numbers meaningless; this
// tests the plumbing, not the method.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace medtex {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path scratch_root() {
  static const fs::path root = [] {
    fs::path p = fs::temp_directory_path() / ("medtex_study_" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return root;
}

Outcome medtex(const std::string& args) {
  const fs::path out = scratch_root() / "stdout.txt", err = scratch_root() / "stderr.txt";
  const std::string cmd = std::string("'") + MEDTEX_BINARY + "' " + args + " >'" + out.string() +
                          "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  Outcome r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

bool in_unit(const nlohmann::json& v) {
  return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0.0 &&
         v.get<double>() <= 1.0;
}


void check_exit_and_output(const Outcome* outcome_, const std::string& dir_) {
  ASSERT_EQ(outcome_->code, 0) << outcome_->err;
  EXPECT_NE(outcome_->out.find("pipeline test"), std::string::npos) << outcome_->out;
  EXPECT_NE(outcome_->out.find("transfer†"), std::string::npos) << outcome_->out;
  EXPECT_NE(outcome_->out.find("privileged"), std::string::npos) << outcome_->out;
  EXPECT_NE(outcome_->err.find("[demo] training the teacher"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "report.html"));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "models" / "teacher.safetensors"));
}

void check_results(const Outcome* outcome_, const std::string& dir_) {
  ASSERT_EQ(outcome_->code, 0) << outcome_->err;
  const nlohmann::json res = nlohmann::json::parse(slurp(fs::path(dir_) / "results.json"));
  const auto ns = res["config"]["labelled_sizes"].get<std::vector<int64_t>>();
  ASSERT_EQ(ns.size(), 2u);
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& r : res["runs"]) {
    seen.insert({r["method"].get<std::string>(), r["n"].get<int64_t>()});
    EXPECT_TRUE(in_unit(r["accuracy"])) << r.dump();
    EXPECT_TRUE(in_unit(r["macro_f1"])) << r.dump();
    EXPECT_TRUE(in_unit(r["agreement"])) << r.dump();
    if (r["kappa"].is_number()) {
      EXPECT_GE(r["kappa"].get<double>(), -1.0);
      EXPECT_LE(r["kappa"].get<double>(), 1.0);
    }
    EXPECT_EQ(r["privileged"].get<bool>(), r["method"] == "transfer");
    EXPECT_GT(r["images"].get<int64_t>(), 0);
  }
  for (const char* m : {"scratch", "transfer", "kd", "medtex"})
    for (int64_t n : ns) EXPECT_TRUE(seen.count({m, n})) << m << " n=" << n;
  EXPECT_TRUE(in_unit(res["teacher"]["source_test"]["accuracy"]));
  std::set<std::string> explained;
  for (const auto& e : res["explanations"]) {
    explained.insert(e["method"].get<std::string>());
    for (const char* k : {"post_hoc_accuracy", "deletion_auc", "insertion_auc"})
      EXPECT_TRUE(in_unit(e[k])) << e["method"] << " " << k;
    if (e["lesion_precision"].is_number()) {
      EXPECT_TRUE(in_unit(e["lesion_precision"]));
    }
  }
  EXPECT_EQ(explained, (std::set<std::string>{"random", "saliency", "grad-cam", "l2x", "medtex",
                                               "lesions"}));
  for (const auto& e : res["explanations"]) EXPECT_TRUE(in_unit(e["student_fidelity"])) << e.dump();
  // The calibration lines: the teacher with only / without the lesion
  // patches, over source and clinic test images with lesions.
  for (const char* k : {"lesion_reliance_source", "lesion_reliance_clinic"}) {
    const auto& l = res["teacher"][k];
    EXPECT_TRUE(in_unit(l["kept_only_same"])) << k;
    EXPECT_TRUE(in_unit(l["removed_same"])) << k;
    EXPECT_GT(l["images"].get<int64_t>(), 0) << k;
  }
  EXPECT_NE(outcome_->out.find("only the lesion patches kept"), std::string::npos);
}

void check_explain(const Outcome* outcome_, const std::string& dir_) {
  ASSERT_EQ(outcome_->code, 0) << outcome_->err;
  // `medtex explain` of the demo's teacher and explainer into `out`.
  auto explain = [&](const std::string& flags, const fs::path& out) {
    return medtex("explain --threads 2" + flags + " --teacher '" + dir_ +
                  "/models/teacher.safetensors' --explainer '" + dir_ +
                  "/models/explainer.safetensors' --data '" + dir_ + "/clinic' --out '" +
                  out.string() + "' --n 5 --k 4 --steps 2");
  };
  const fs::path out = scratch_root() / "explain";
  const Outcome r = explain("", out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lesion precision@k"), std::string::npos) << r.out;
  int pngs = 0;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().string().ends_with("_overlay.png")) ++pngs;
  EXPECT_EQ(pngs, 5);
  const nlohmann::json j = nlohmann::json::parse(slurp(out / "explain.json"));
  EXPECT_EQ(j["images"].get<int>(), 5);
  EXPECT_EQ(j["k"].get<int>(), 4);
  EXPECT_TRUE(in_unit(j["insertion_auc"]));

  // --device emu: teacher and explainer on the emulated GPU, the same
  // explanation (selection and metrics) to rounding.
  const fs::path emu_out = scratch_root() / "explain-emu";
  const Outcome e = explain(" --device emu", emu_out);
  ASSERT_EQ(e.code, 0) << e.err;
  const nlohmann::json je = nlohmann::json::parse(slurp(emu_out / "explain.json"));
  EXPECT_NE(je["device"].get<std::string>().find("SIMT emulator"), std::string::npos);
  for (const char* k : {"post_hoc_accuracy", "lesion_precision", "pointing_game"})
    EXPECT_EQ(je[k], j[k]) << k;
  for (const char* k : {"deletion_auc", "insertion_auc"})
    EXPECT_NEAR(je[k].get<double>(), j[k].get<double>(), 1e-5) << k;
}

void check_explain_rejects(const Outcome* outcome_, const std::string& dir_) {
  ASSERT_EQ(outcome_->code, 0) << outcome_->err;
  const Outcome r = medtex("explain --teacher '" + dir_ +
                           "/models/teacher.safetensors' --explainer '" + dir_ +
                           "/models/teacher.safetensors' --data '" + dir_ + "/clinic' --out '" +
                           (scratch_root() / "bad").string() + "'");
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(r.err.empty());
}

class DemoQuick : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (scratch_root() / "demo").string();
    outcome_ = new Outcome(medtex("demo --quick --threads 2 --out '" + dir_ + "'"));
  }
  static void TearDownTestSuite() {
    delete outcome_;
    fs::remove_all(scratch_root());
  }
  static std::string dir_;
  static Outcome* outcome_;
};
std::string DemoQuick::dir_;
Outcome* DemoQuick::outcome_ = nullptr;

// One test, not four: CTest runs each test in its own process, and the demo
// (the expensive part) should run once.
TEST_F(DemoQuick, QuickDemoThenExplain) {
  {
    SCOPED_TRACE("demo exit and output");
    check_exit_and_output(outcome_, dir_);
  }
  {
    SCOPED_TRACE("results.json");
    check_results(outcome_, dir_);
  }
  {
    SCOPED_TRACE("explain");
    check_explain(outcome_, dir_);
  }
  {
    SCOPED_TRACE("explain with a wrong explainer");
    check_explain_rejects(outcome_, dir_);
  }
}

}  // namespace
}  // namespace medtex
