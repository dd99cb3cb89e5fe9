#include "kernels/simt/settings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace simt {
namespace detail {
namespace {

bool parse_unsigned(const char* text, uint64_t* value) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *value = v;
  return true;
}

struct Settings {
  std::mutex mutex;
  Config config;
  std::string environment_error;
};

Settings& settings() {
  // Never destroyed: a static destructor elsewhere may still launch.
  static Settings* s = [] {
    auto* fresh = new Settings();
    fresh->config = config_from_environment([](const char* name) { return std::getenv(name); },
                                            &fresh->environment_error);
    return fresh;
  }();
  return *s;
}

}  // namespace

Config config_from_environment(const std::function<const char*(const char*)>& lookup,
                               std::string* error) {
  Config c;
  auto bad = [error](const char* name, const char* value, const char* expected) {
    *error = std::string(name) + "='" + value + "' is not " + expected;
  };
  uint64_t n = 0;
  if (const char* v = lookup("SIMT_SCHED")) {
    if (std::strcmp(v, "inorder") == 0)
      c.schedule = Schedule::kInOrder;
    else if (std::strcmp(v, "reverse") == 0)
      c.schedule = Schedule::kReverse;
    else if (std::strcmp(v, "random") == 0)
      c.schedule = Schedule::kRandom;
    else
      bad("SIMT_SCHED", v, "inorder, reverse or random");
  }
  if (const char* v = lookup("SIMT_SEED")) {
    if (parse_unsigned(v, &n))
      c.seed = n;
    else
      bad("SIMT_SEED", v, "an unsigned integer");
  }
  if (const char* v = lookup("SIMT_WORKERS")) {
    if (parse_unsigned(v, &n) && n <= 1024)
      c.workers = static_cast<unsigned>(n);
    else
      bad("SIMT_WORKERS", v, "a number from 0 to 1024");
  }
  if (const char* v = lookup("SIMT_STACK_KB")) {
    if (parse_unsigned(v, &n) && n >= 16 && n <= 65536)
      c.stack_bytes = n * 1024;
    else
      bad("SIMT_STACK_KB", v, "a number from 16 to 65536");
  }
  if (const char* v = lookup("SIMT_STRICT")) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      c.strict_barriers = v[0] == '1';
    else
      bad("SIMT_STRICT", v, "0 or 1");
  }
  return c;
}

void launch_settings(Config* config, std::string* environment_error) {
  Settings& s = settings();
  std::lock_guard<std::mutex> lock(s.mutex);
  *config = s.config;
  *environment_error = s.environment_error;
}

}  // namespace detail

Config config() {
  detail::Settings& s = detail::settings();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.config;
}

void set_config(const Config& config) {
  detail::Settings& s = detail::settings();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.config = config;
}

}  // namespace simt
