// The built `medtex` program, end to end: `medtex synth` writes the same bytes
// for any thread count, refuses a non-empty folder, and bad command lines give
// one line on stderr with the documented exit codes (1: a medtex error,
// 2: a command line CLI11 cannot parse).
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/data/data_test_util.h"

namespace medtex {
namespace {

using test::ScratchDir;

struct Outcome {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the program with `args` (shell words), capturing stdout and stderr.
Outcome medtex(const ScratchDir& scratch, const std::string& args) {
  const std::string out = scratch.str("stdout.txt"), err = scratch.str("stderr.txt");
  const std::string cmd =
      std::string("'") + MEDTEX_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  Outcome r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void expect_one_error_line(const Outcome& r, const std::string& contains) {
  EXPECT_EQ(r.err.rfind("medtex: error: ", 0), 0u) << "stderr: " << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_NE(r.err.find(contains), std::string::npos) << "stderr: " << r.err;
}

TEST(SynthCli, SameFilesForOneAndTwoThreads) {
  ScratchDir d("cli");
  const std::string common = " --n 24 --size 40 --preset target --seed 3 --preview";
  const Outcome a = medtex(d, "synth --out '" + d.str("a") + "'" + common + " --threads 1");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_TRUE(a.err.empty()) << a.err;
  EXPECT_NE(a.out.find("grade"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("images/s"), std::string::npos) << a.out;
  const Outcome b = medtex(d, "synth --out '" + d.str("b") + "'" + common + " --threads 2");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(std::filesystem::exists(d.path() / "a" / "preview.png"));
  EXPECT_EQ(test::hash_tree(d.path() / "a"), test::hash_tree(d.path() / "b"));
  EXPECT_EQ(test::count_files(d.path() / "a" / "images"), 24u);

  // A non-empty folder is refused (exit 1, one line), then replaced with --force.
  const Outcome again = medtex(d, "synth --out '" + d.str("a") + "'" + common);
  EXPECT_EQ(again.code, 1);
  expect_one_error_line(again, "--force");
  const Outcome forced = medtex(d, "synth --out '" + d.str("a") + "'" + common + " --force");
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(test::hash_tree(d.path() / "a"), test::hash_tree(d.path() / "b"));
}

TEST(SynthCli, BadInputGivesOneLineAndExitCode) {
  ScratchDir d("cli_bad");
  const Outcome preset = medtex(d, "synth --out '" + d.str("x") + "' --preset sunset --n 2");
  EXPECT_EQ(preset.code, 1);
  expect_one_error_line(preset, "unknown preset 'sunset'");

  const Outcome flag = medtex(d, "synth --out '" + d.str("x") + "' --bogus");
  EXPECT_EQ(flag.code, 2);
  expect_one_error_line(flag, "--bogus");

  const Outcome no_out = medtex(d, "synth --n 3");
  EXPECT_EQ(no_out.code, 2);
  expect_one_error_line(no_out, "--out");

  const Outcome bad_number = medtex(d, "synth --out '" + d.str("x") + "' --n many");
  EXPECT_EQ(bad_number.code, 2);
  expect_one_error_line(bad_number, "many");

  const Outcome size = medtex(d, "synth --out '" + d.str("x") + "' --size 3 --n 2");
  EXPECT_EQ(size.code, 1);
  expect_one_error_line(size, "size");

  const Outcome none = medtex(d, "");
  EXPECT_EQ(none.code, 2);
  expect_one_error_line(none, "subcommand");

  const Outcome unknown = medtex(d, "paint");
  EXPECT_EQ(unknown.code, 2);
  expect_one_error_line(unknown, "paint");
}

TEST(SynthCli, HelpAndVersion) {
  ScratchDir d("cli_help");
  const Outcome help = medtex(d, "--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("synth"), std::string::npos) << help.out;
  const Outcome sub = medtex(d, "synth --help");
  EXPECT_EQ(sub.code, 0);
  for (const char* flag :
       {"--out", "--n", "--size", "--preset", "--seed", "--threads", "--preview", "--force"}) {
    EXPECT_NE(sub.out.find(flag), std::string::npos) << flag << " missing from: " << sub.out;
  }
  const Outcome version = medtex(d, "--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("medtex ", 0), 0u) << version.out;
}

}  // namespace
}  // namespace medtex
