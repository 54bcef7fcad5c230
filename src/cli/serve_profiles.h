#pragma once
// Serving profiles: `sluice serve --profile NAME` applies a named, documented set of flags;
// flags given explicitly win. `--print-config` shows the result.
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

struct ServeProfile {
  std::string name;
  std::string summary;            // one line for --help and docs/API.md
  std::vector<std::string> args;  // serve flags, e.g. {"--kv-cache-memory", "0.25"}
};

const std::vector<ServeProfile>& serve_profiles();

// `args` (a command line after the program name) with the profile named by its --profile
// appended, less every flag the command line gives itself. Unchanged without --profile; an
// error for an unknown profile.
Result<std::vector<std::string>> apply_serve_profile(const std::vector<std::string>& args);

}  // namespace sluice
