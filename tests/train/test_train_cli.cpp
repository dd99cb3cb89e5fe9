// The built program end to end on a tiny synthetic set: `medtex train`,
// `distill` (medtex with an unlabelled archive, and the privileged transfer)
// and `eval` exit 0 and write their model and JSON files; a killed and
// resumed `train` writes the same model file, byte for byte, as a straight
// run; `--device cuda`, a truncated model file and a checkpoint of another
// run each give one line on stderr and exit code 1.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/runtime/gpu.h"
#include "tests/data/data_test_util.h"

namespace medtex {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

// tests/CMakeLists.txt passes MEDTEX_BINARY (and the build dependency) to the
// tests/data group; for this group the program is found where the build tree
// puts it, beside tests/.
std::string medtex_binary() {
#ifdef MEDTEX_BINARY
  return MEDTEX_BINARY;
#else
  return (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "tools" / "medtex")
      .string();
#endif
}

struct Outcome {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the program on the CPU unless `args` name a device: with --device auto
// a CUDA build on a machine without a GPU adds its fallback line to stderr
// (FallbackLine checks it), which would blur the one-line checks here.
Outcome medtex(const ScratchDir& d, const std::string& args) {
  const std::string out = d.str("stdout.txt"), err = d.str("stderr.txt");
  const bool takes_device = args.rfind("train", 0) == 0 || args.rfind("distill", 0) == 0 ||
                            args.rfind("eval", 0) == 0;
  const std::string device =
      takes_device && args.find("--device") == std::string::npos ? " --device cpu" : "";
  const std::string cmd = "cd '" + d.str() + "' && '" + medtex_binary() + "' " + args + device +
                          " --threads 2 >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  Outcome r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void expect_one_error_line(const Outcome& r, const std::string& contains) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("medtex: error: ", 0), 0u) << "stderr: " << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_NE(r.err.find(contains), std::string::npos) << "stderr: " << r.err;
}

nlohmann::json read_json(const fs::path& p) {
  return nlohmann::json::parse(slurp(p));
}

class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(fs::exists(medtex_binary()))
        << medtex_binary() << " is missing: build the medtex target first";
    dir_ = new ScratchDir("train_cli");
    const Outcome src = medtex(*dir_, "synth --out src --n 40 --size 32 --preset source --seed 1");
    ASSERT_EQ(src.code, 0) << src.err;
    const Outcome clinic =
        medtex(*dir_, "synth --out clinic --n 36 --size 32 --preset target --seed 2");
    ASSERT_EQ(clinic.code, 0) << clinic.err;
    // An unlabelled archive as a plain folder of images.
    fs::create_directories(dir_->path() / "archive");
    int copied = 0;
    for (const auto& e : fs::directory_iterator(dir_->path() / "src" / "images")) {
      if (copied++ < 16) fs::copy_file(e.path(), dir_->path() / "archive" / e.path().filename());
    }
    // The teacher every test uses.
    const Outcome train =
        medtex(*dir_, std::string("train --out teacher.safetensors") + teacher_flags());
    ASSERT_EQ(train.code, 0) << train.err;
    teacher_out_ = new Outcome(train);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete teacher_out_;
    dir_ = nullptr;
    teacher_out_ = nullptr;
  }
  static ScratchDir* dir_;
  static Outcome* teacher_out_;
  static const char* teacher_flags() {
    return " --data src --arch resnet18 --width 0.125 --size 32 --epochs 2 --batch 8 --quiet"
           " --seed 4";
  }
};
ScratchDir* TrainCli::dir_ = nullptr;
Outcome* TrainCli::teacher_out_ = nullptr;

TEST_F(TrainCli, TrainDistillEvalEndToEnd) {
  const ScratchDir& d = *dir_;
  ASSERT_NE(teacher_out_, nullptr);
  const Outcome& train = *teacher_out_;
  EXPECT_TRUE(train.err.empty()) << train.err;  // --quiet
  EXPECT_NE(train.out.find("train loss"), std::string::npos) << train.out;
  EXPECT_NE(train.out.find("kept: best"), std::string::npos) << train.out;
  ASSERT_TRUE(fs::exists(d.path() / "teacher.safetensors"));
  EXPECT_TRUE(fs::exists(d.path() / "teacher.ckpt.safetensors"));
  const nlohmann::json tj = read_json(d.path() / "teacher.json");
  EXPECT_EQ(tj["command"], "train");
  EXPECT_EQ(tj["result"]["history"].size(), 2u);
  EXPECT_EQ(tj["result"]["kept"], "best");
  EXPECT_EQ(tj["config"]["arch"], "resnet18");
  EXPECT_EQ(tj["classes"].size(), 5u);

  const Outcome med = medtex(d,
                             "distill --method medtex --teacher teacher.safetensors --data clinic "
                             "--unlabeled archive --n 12 --out student.safetensors --epochs 1 "
                             "--batch 4 --width 0.25 --log-every 1 --json med.json --seed 4");
  ASSERT_EQ(med.code, 0) << med.err;
  EXPECT_NE(med.err.find("[distill:medtex] step 1/"), std::string::npos) << med.err;
  EXPECT_NE(med.err.find("img/s"), std::string::npos) << med.err;
  EXPECT_NE(med.err.find("ETA"), std::string::npos) << med.err;
  EXPECT_TRUE(fs::exists(d.path() / "student.explainer.safetensors"));
  const nlohmann::json mj = read_json(d.path() / "med.json");
  EXPECT_EQ(mj["method"], "medtex");
  EXPECT_EQ(mj["privileged"], false);
  EXPECT_EQ(mj["result"]["labelled_images"], 12);
  EXPECT_EQ(mj["result"]["unlabeled_images"], 16);
  EXPECT_EQ(mj["result"]["kept"], "last");  // no validation set
  EXPECT_TRUE(mj["result"]["history"][0]["train_terms"].contains("explain"));

  const Outcome tr = medtex(d,
                            "distill --method transfer --teacher teacher.safetensors --data clinic "
                            "--n 12 --out transfer.safetensors --epochs 1 --batch 4 --quiet");
  ASSERT_EQ(tr.code, 0) << tr.err;
  EXPECT_NE(tr.out.find("privileged"), std::string::npos) << tr.out;
  EXPECT_EQ(read_json(d.path() / "transfer.json")["privileged"], true);

  const Outcome ev =
      medtex(d, "eval --model student.safetensors --data clinic --teacher teacher.safetensors");
  ASSERT_EQ(ev.code, 0) << ev.err;
  EXPECT_NE(ev.out.find("quadratic kappa"), std::string::npos) << ev.out;
  EXPECT_NE(ev.out.find("agreement w/ teacher"), std::string::npos) << ev.out;
  const nlohmann::json ej = read_json(d.path() / "student.eval.json");
  EXPECT_EQ(ej["metrics"]["images"], 36);
  EXPECT_TRUE(ej["metrics"]["accuracy"].is_number());
  EXPECT_EQ(ej["metrics"]["per_class_auc"].size(), 5u);
  EXPECT_TRUE(ej["metrics"]["teacher"]["agreement"].is_number());
  EXPECT_EQ(read_json(d.path() / "student.eval.json")["config"]["norm_mean"],
            read_json(d.path() / "med.json")["config"]["norm_mean"]);
}

TEST_F(TrainCli, KilledAndResumedTrainWritesTheSameModel) {
  const ScratchDir& d = *dir_;
  // A small student-sized net keeps this cheap; the library tests cover
  // resnet18 and the distillation methods.
  const std::string flags =
      " --data src --arch cnn-small --width 0.25 --size 32 --epochs 2 --batch 8 --quiet --seed 4";
  const Outcome straight = medtex(d, "train --out straight.safetensors" + flags);
  ASSERT_EQ(straight.code, 0) << straight.err;
  const Outcome killed = medtex(d, "train --out resumed.safetensors --stop-after 3" + flags);
  ASSERT_EQ(killed.code, 0) << killed.err;
  EXPECT_NE(killed.out.find("continue with --resume"), std::string::npos) << killed.out;
  EXPECT_FALSE(fs::exists(d.path() / "resumed.safetensors"));
  const Outcome resumed = medtex(d, "train --out resumed.safetensors --resume" + flags);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(read_json(d.path() / "resumed.json")["result"]["resumed_from_step"], 3);
  const std::string a = slurp(d.path() / "straight.safetensors");
  const std::string b = slurp(d.path() / "resumed.safetensors");
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "the resumed run's model file differs from the straight run's";
}

TEST_F(TrainCli, BadInputGivesOneLine) {
  const ScratchDir& d = *dir_;
  expect_one_error_line(
      medtex(d, "train --data src --out never.safetensors --device cuda --size 32"),
      "--device cuda: CUDA unavailable: ");
  expect_one_error_line(medtex(d, "eval --model none.safetensors --data clinic --device cuda"),
                        "--device cuda: CUDA unavailable: ");

  // A truncated model file.
  const std::string bytes = slurp(d.path() / "teacher.safetensors");
  test::write_text(d.path() / "cut.safetensors", bytes.substr(0, bytes.size() / 2));
  expect_one_error_line(medtex(d, "eval --model cut.safetensors --data clinic"), "cut.safetensors");

  // A checkpoint of another architecture.
  expect_one_error_line(
      medtex(
          d,
          "train --data src --arch cnn-small --width 0.25 --size 32 --epochs 2 --batch 8 "
          "--quiet --seed 4 --out t2.safetensors --resume --checkpoint teacher.ckpt.safetensors"),
      "cannot resume: run.student.arch: the checkpoint has resnet18, this run has cnn-small");

  // A teacher file that is not a medtex model (a bare state dict).
  expect_one_error_line(
      medtex(d,
             "distill --method kd --teacher teacher.ckpt.safetensors --data clinic "
             "--out s.safetensors"),
      "teacher.ckpt.safetensors: no 'arch' in the metadata");

  // A method that needs a teacher.
  expect_one_error_line(medtex(d, "distill --method medtex --data clinic --out s.safetensors"),
                        "needs --teacher");
}

}  // namespace
}  // namespace medtex

namespace medtex {
namespace {

// --device auto: a CUDA build on a machine without a usable GPU says so in
// one line and runs on the CPU; a CPU-only build has nothing to say.
TEST_F(TrainCli, AutoDeviceFallsBackToTheCpuWithOneLine) {
  const ScratchDir& d = *dir_;
  const Outcome r = medtex(d, "eval --model teacher.safetensors --data clinic --device auto");
  ASSERT_EQ(r.code, 0) << r.err;
  if (gpu::probe_cuda().available) {
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_NE(r.out.find("cuda:0"), std::string::npos) << r.out;
  } else if (MEDTEX_HAVE_CUDA) {
    EXPECT_EQ(r.err, "medtex: CUDA unavailable: " + gpu::probe_cuda().reason + "; running on CPU\n");
  } else {
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

// --device emu: the whole program on the emulated GPU gives the CPU's
// evaluation (to rounding: the printed metrics agree).
TEST_F(TrainCli, EmulatedDeviceEvaluatesLikeTheCpu) {
  const ScratchDir& d = *dir_;
  const Outcome cpu = medtex(d, "eval --model teacher.safetensors --data clinic --json c.json");
  const Outcome emu =
      medtex(d, "eval --model teacher.safetensors --data clinic --device emu --json e.json");
  ASSERT_EQ(cpu.code, 0) << cpu.err;
  ASSERT_EQ(emu.code, 0) << emu.err;
  const nlohmann::json c = read_json(d.path() / "c.json"), e = read_json(d.path() / "e.json");
  EXPECT_EQ(c["device"], "cpu");
  EXPECT_NE(e["device"].get<std::string>().find("SIMT emulator"), std::string::npos) << e["device"];
  EXPECT_EQ(e["metrics"]["accuracy"], c["metrics"]["accuracy"]);
  EXPECT_NEAR(e["metrics"]["loss"].get<double>(), c["metrics"]["loss"].get<double>(), 1e-5);
  const Outcome vendor = medtex(
      d, "eval --model teacher.safetensors --data clinic --device emu --kernels vendor");
  expect_one_error_line(vendor, "--kernels vendor needs a real GPU");
}

}  // namespace
}  // namespace medtex
