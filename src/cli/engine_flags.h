#pragma once
// The engine flags shared by `run` and `serve` (--max-num-seqs, --kv-cache-memory, ...).
#include <memory>
#include <string>

#include "common/status.h"
#include "engine/engine_config.h"

namespace CLI {
class App;
}

namespace sluice {

struct EngineFlags {
  EngineConfig config;
  std::string kv_cache_memory;       // bytes or a fraction of RAM; empty: the default
  std::string state_cache_memory;    // bytes; empty: the default
  std::string encoder_cache_memory;  // bytes; empty: the default
  bool no_prefix_cache = false;
  bool keep_window_blocks = false;
};

void add_engine_flags(CLI::App& cmd, EngineFlags& flags);
// The parsed flags as a validated EngineConfig.
Result<EngineConfig> engine_config_from(const EngineFlags& flags);

}  // namespace sluice
