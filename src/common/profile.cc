#include "common/profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "common/env.h"

namespace sluice::profile {
namespace {

using Clock = std::chrono::steady_clock;

struct Total {
  int64_t count = 0;
  double seconds = 0.0;
};

// The file named by SLUICE_PROFILE, null when unset or empty (read once).
const char* profile_path() {
  static const std::string path = env::value(env::Switch::kProfile);
  return path.empty() ? nullptr : path.c_str();
}

struct Registry {
  std::mutex mu;
  std::map<std::string, Total> totals;
  Clock::time_point last_dump = Clock::now();
  const char* path = profile_path();
  bool warned = false;

  Registry() {
    std::atexit([] { dump(); });
  }  // made only when profiling is on
  void write_locked() {
    std::vector<std::pair<std::string, Total>> rows(totals.begin(), totals.end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    FILE* f = std::fopen(path, "w");
    if (f == nullptr) {
      if (!warned) std::fprintf(stderr, "[profile] cannot write SLUICE_PROFILE=%s\n", path);
      warned = true;
      return;
    }
    std::fprintf(f, "%-48s %10s %12s %12s\n", "key", "count", "total_ms", "mean_us");
    for (const auto& [key, t] : rows)
      std::fprintf(f, "%-48s %10lld %12.3f %12.2f\n", key.c_str(), static_cast<long long>(t.count),
                   t.seconds * 1e3, t.count ? t.seconds * 1e6 / t.count : 0.0);
    std::fclose(f);
    last_dump = Clock::now();
  }
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: the exit-time dump still reads it
  return *r;
}

}  // namespace

bool enabled() {
  return profile_path() != nullptr;
}

void add(const std::string& key, double seconds) {
  if (!enabled()) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  Total& t = r.totals[key];
  ++t.count;
  t.seconds += seconds;
  if (Clock::now() - r.last_dump > std::chrono::seconds(2)) r.write_locked();
}

std::string op_key(const char* op, int64_t n, const std::string& detail) {
  const char* bucket = n <= 1     ? "1"
                       : n <= 8   ? "2-8"
                       : n <= 64  ? "9-64"
                       : n <= 512 ? "65-512"
                                  : ">512";
  std::string key = op;
  if (!detail.empty()) key += " " + detail;
  return key + " n" + bucket;
}

namespace {
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
}  // namespace

WallScope::WallScope(std::string key) : key_(std::move(key)), start_ns_(now_ns()) {}

WallScope::~WallScope() {
  if (!key_.empty()) add(key_, static_cast<double>(now_ns() - start_ns_) * 1e-9);
}

void dump() {
  if (!enabled()) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.write_locked();
}

}  // namespace sluice::profile
