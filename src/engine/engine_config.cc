#include "engine/engine_config.h"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "backend/backend.h"

namespace sluice {

int64_t physical_ram_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : int64_t{4} << 30;
}

int32_t default_step_tokens(bool host_resident) {
  return host_resident ? 512 : 4096;
}

Status EngineConfig::validate() const {
  auto bad = [](const std::string& what) { return Status::error("engine", what); };
  if (max_num_batched_tokens < 0) return bad("--max-num-batched-tokens must be >= 1");
  if (max_num_seqs < 1) return bad("--max-num-seqs must be >= 1");
  if (block_size < 1 || block_size > 1024) return bad("--block-size must be in [1, 1024]");
  if (kv_cache_bytes < 0) return bad("--kv-cache-memory must be positive");
  if (!(kv_cache_fraction > 0.0 && kv_cache_fraction <= 0.95))
    return bad("--kv-cache-memory as a fraction of RAM must be in (0, 0.95]");
  if (max_model_len < 0) return bad("--max-model-len must be >= 0");
  if (kv_cache_dtype != "auto" && kv_cache_dtype != "f32" && kv_cache_dtype != "f16")
    return bad("--kv-cache-dtype must be auto, f32 or f16");
  if (!(gpu_memory_utilization > 0.0 && gpu_memory_utilization <= 0.99))
    return bad("--gpu-memory-utilization must be in (0, 0.99]");
  if (state_cache_bytes < -1) return bad("--state-cache-memory must be >= 0");
  if (state_snapshot_interval < 0) return bad("--state-snapshot-interval must be >= 0");
  return Status::ok();
}

Result<int64_t> parse_byte_size(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return Status::error("engine",
                         flag + " '" + text + "': expected bytes (e.g. 2GiB, 512MB, 1000000)");
  };
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v < 0) return bad();
  std::string unit(end);
  for (char& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::pair<const char*, double> units[] = {
      {"", 1},     {"b", 1},           {"k", 1e3}, {"kb", 1e3}, {"kib", 1024.0},      {"m", 1e6},
      {"mb", 1e6}, {"mib", 1048576.0}, {"g", 1e9}, {"gb", 1e9}, {"gib", 1073741824.0}};
  for (const auto& [name, mult] : units)
    if (unit == name) {
      const double bytes = v * mult;
      if (bytes > 9e18) return bad();
      return static_cast<int64_t>(bytes);
    }
  return bad();
}

Status parse_kv_cache_memory(const std::string& text, EngineConfig& config) {
  const std::string flag = "--kv-cache-memory";
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0' && v > 0 && v < 1.0) {  // a fraction of RAM
    config.kv_cache_fraction = v;
    config.kv_cache_bytes = 0;
    return config.validate();
  }
  auto bytes = parse_byte_size(text, flag);
  if (!bytes || *bytes < 1)
    return Status::error("engine", flag + " '" + text +
                                       "': expected bytes (e.g. 2GiB, 512MB, 1000000) or a "
                                       "fraction of RAM in (0, 1)");
  config.kv_cache_bytes = *bytes;
  return Status::ok();
}

Status apply_kv_cache_dtype(const std::string& dtype, Backend& backend) {
  if (dtype == "auto" || backend.set_kv_dtype(dtype == "f16" ? KvDtype::F16 : KvDtype::F32))
    return Status::ok();
  return Status::error("engine", "--kv-cache-dtype " + dtype + ": the " + backend.name() +
                                     " backend has no such KV cache");
}

}  // namespace sluice
