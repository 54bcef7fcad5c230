#pragma once
// Opt-in timing totals for finding where a step's time goes: set SLUICE_PROFILE=<file> and the
// totals (count, seconds, mean) by key are rewritten there every ~2 s and at exit. Off (no cost
// beyond one branch) when the variable is unset.
#include <cstdint>
#include <string>

namespace sluice::profile {

bool enabled();
// Adds `seconds` to the key's total (thread-safe).
void add(const std::string& key, double seconds);
// Writes the table now (also done by add() every ~2 s and at exit).
void dump();

// Key of a backend op: "<op> <detail> n<bucket>", rows bucketed as 1, 2-8, 9-64, 65-512, >512.
std::string op_key(const char* op, int64_t n, const std::string& detail = "");

// Adds the wall time from construction to destruction under a key; inert when profiling is off.
class WallScope {
 public:
  WallScope() = default;
  explicit WallScope(std::string key);
  ~WallScope();
  WallScope(WallScope&& o) noexcept : key_(std::move(o.key_)), start_ns_(o.start_ns_) {
    o.key_.clear();
  }
  WallScope(const WallScope&) = delete;
  WallScope& operator=(const WallScope&) = delete;
  WallScope& operator=(WallScope&&) = delete;

 private:
  std::string key_;  // empty: inert
  int64_t start_ns_ = 0;
};

}  // namespace sluice::profile
