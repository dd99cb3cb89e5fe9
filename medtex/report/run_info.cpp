#include "medtex/report/run_info.h"

#include <unistd.h>

#include <fstream>
#include <string_view>

namespace medtex::report {
namespace {

bool shell_safe(std::string_view arg) {
  if (arg.empty()) return false;
  for (char ch : arg) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("_./=:,+@%-").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

std::string quote_command_line(int argc, const char* const* argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i] ? argv[i] : "";
    if (i > 0) out += ' ';
    if (shell_safe(a)) {
      out += a;
      continue;
    }
    // Inside single quotes nothing is special but the quote itself, which
    // ends the quoted part, is given escaped, and opens a new one.
    out += '\'';
    for (char ch : a) {
      if (ch == '\'') {
        out += "'\\''";
      } else {
        out += ch;
      }
    }
    out += '\'';
  }
  return out;
}

std::string iso8601_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return trim(line.substr(colon + 1));
    }
  }
  return "";
}

std::string compiler_version() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

RunInfo collect_run_info(int argc, const char* const* argv) {
  RunInfo info;
  info.command_line = quote_command_line(argc, argv);
  info.date = iso8601_utc(std::time(nullptr));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  info.nproc = n > 0 ? int(n) : 0;
  info.cpu_model = cpu_model_name();
  info.versions.emplace_back("compiler", trim(compiler_version()));
  return info;
}

}  // namespace medtex::report
