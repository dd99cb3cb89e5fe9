// medtex <command> [flags]: the program. Commands register themselves (see
// command.h). Errors: a command's medtex::Error (or any std::exception) gives
// one line "medtex: error: ..." on stderr and exit code 1; a command line
// CLI11 cannot parse gives one line and exit code 2.
#include <algorithm>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "kernels/common/error.h"
#include "tools/medtex/command.h"

namespace {

// Messages are printed on one line, whatever they contain.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "medtex: a from-scratch deep-learning engine and MED-TEX, explainable knowledge "
      "distillation for fundus images",
      "medtex"};
  app.set_version_flag("--version", std::string("medtex ") + MEDTEX_VERSION);
  app.require_subcommand(1);
  std::string names;
  bool known = argc < 2 || argv[1][0] == '-';
  for (const medtex::cli::CommandInfo& c : medtex::cli::registered_commands()) {
    c.setup(app);
    names += (names.empty() ? "" : ", ") + std::string(c.name);
    known = known || std::string(argv[1]) == c.name;
  }
  if (!known) {
    // CLI11 would only say that a subcommand is required.
    std::cerr << "medtex: error: unknown command '" << argv[1] << "' (commands: " << names << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, as "errors" with exit code 0.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "medtex: error: " << one_line(e.what()) << " (see medtex --help)\n";
    return 2;
  } catch (const medtex::Error& e) {
    std::cerr << "medtex: error: " << one_line(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "medtex: error: " << one_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}
