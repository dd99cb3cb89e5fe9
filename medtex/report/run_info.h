// What a report says about the run that made it, so a number in it can be
// traced to a command, a seed, a build and a machine.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace medtex::report {

struct RunInfo {
  std::string command_line{};  // as a shell would accept it back
  std::optional<uint64_t> seed{};
  std::string date{};       // ISO 8601, UTC: 2025-01-31T12:34:56Z
  int nproc = 0;            // logical CPUs online
  std::string cpu_model{};  // "" when the system does not say
  // Name and version pairs, in the order shown: medtex, the compiler, ...
  std::vector<std::pair<std::string, std::string>> versions{};
  // Anything else worth a row: threads, device, data set, preset.
  std::vector<std::pair<std::string, std::string>> extra{};
};

// Fills command_line (from argv), date (now), nproc, cpu_model and the
// compiler's version; the caller adds the seed, medtex's version (the program
// knows it, the library does not) and any extras.
RunInfo collect_run_info(int argc, const char* const* argv);

// argv joined with spaces; an argument with anything but [A-Za-z0-9_./=:,+@%-]
// is single-quoted ('it'\''s'), an empty one is ''.
std::string quote_command_line(int argc, const char* const* argv);

std::string iso8601_utc(std::time_t t);

// The "model name" line of /proc/cpuinfo; "" when absent (not Linux, or an
// architecture whose cpuinfo has no such line).
std::string cpu_model_name();

// The compiler that built this library, e.g. "GCC 12.2.0" or "clang 16.0.6".
std::string compiler_version();

}  // namespace medtex::report
