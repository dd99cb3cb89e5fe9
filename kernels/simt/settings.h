// The emulator's settings: simt::Config from the environment (SIMT_SCHED,
// SIMT_SEED, SIMT_WORKERS, SIMT_STACK_KB, SIMT_STRICT) or set_config().
#pragma once

#include <functional>
#include <string>

#include "kernels/simt/simt.h"

namespace simt::detail {

// The defaults overridden by the variables that `lookup` (std::getenv, or a
// test's table) returns. A malformed value leaves its default and is described
// in *error (the last one wins).
Config config_from_environment(const std::function<const char*(const char*)>& lookup,
                               std::string* error);

// The settings for a launch, and the environment's error if any, which fails
// every launch: a typo in SIMT_SCHED must not quietly test less.
void launch_settings(Config* config, std::string* environment_error);

}  // namespace simt::detail
