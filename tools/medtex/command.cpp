#include "tools/medtex/command.h"

#include <algorithm>
#include <string>

#include "kernels/common/error.h"
#include "kernels/common/parallel.h"

namespace medtex::cli {

namespace {
// A function-local static: registrations run during static initialisation of
// other files, in no particular order.
std::vector<CommandInfo>& registry() {
  static std::vector<CommandInfo> commands;
  return commands;
}
}  // namespace

bool register_command(const CommandInfo& info) {
  registry().push_back(info);
  return true;
}

std::vector<CommandInfo> registered_commands() {
  std::vector<CommandInfo> all = registry();
  std::sort(all.begin(), all.end(), [](const CommandInfo& a, const CommandInfo& b) {
    return a.order != b.order ? a.order < b.order : std::string(a.name) < b.name;
  });
  return all;
}

void add_common_flags(CLI::App& cmd, CommonFlags& flags) {
  cmd.add_option("--seed", flags.seed, "Random seed: the same seed gives the same bits")
      ->capture_default_str();
  cmd.add_option("--threads", flags.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void apply_common_flags(const CommonFlags& flags) {
  set_num_threads(flags.threads);
}

}  // namespace medtex::cli
