// The commands of the medtex program. Each command lives in its own file
// (cmd_<name>.cpp) and registers itself with a static MEDTEX_COMMAND(...), so
// adding a command touches no other file:
//
//   namespace {
//   void setup(CLI::App& app) {
//     auto flags = std::make_shared<MyFlags>();     // outlives parsing
//     CLI::App* cmd = app.add_subcommand("name", "what it does");
//     add_common_flags(*cmd, flags->common);
//     cmd->add_option("--out", flags->out, "...")->required();
//     cmd->callback([flags] { apply_common_flags(flags->common); run(*flags); });
//   }
//   }  // namespace
//   MEDTEX_COMMAND(name, 10, setup);
//
// A command reports failure by throwing medtex::Error; main turns it into one
// line on stderr and exit code 1.
#pragma once

#include <cstdint>
#include <vector>

#include <CLI/CLI.hpp>

namespace medtex::cli {

struct CommandInfo {
  const char* name;
  int order;  // position in --help: synth, train, distill, eval, explain, demo, bench
  void (*setup)(CLI::App& app);
};

bool register_command(const CommandInfo& info);
// Sorted by order, then name.
std::vector<CommandInfo> registered_commands();

// Flags every command shares.
struct CommonFlags {
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
};
void add_common_flags(CLI::App& cmd, CommonFlags& flags);
// Applies --threads (medtex::set_num_threads).
void apply_common_flags(const CommonFlags& flags);

}  // namespace medtex::cli

#define MEDTEX_COMMAND(name, order, setup_fn)                   \
  [[maybe_unused]] static const bool medtex_registered_##name = \
      ::medtex::cli::register_command({#name, order, &setup_fn})
