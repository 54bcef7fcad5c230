#pragma once
// Prometheus metrics of the HTTP layer (requests by status, token counts, latency histograms)
// plus the engine's gauges, rendered as text exposition format by /metrics.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sluice::api {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends "<name>_bucket{le=..}", "_sum", "_count" lines.
  void render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void count_request(const std::string& route, int status);
  void count_tokens(int64_t prompt, int64_t generated);
  Histogram ttft_s, inter_token_s, e2e_s;
  std::string render(const EngineMetrics* engine) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::atomic<int64_t> prompt_tokens_{0}, generated_tokens_{0};
};

}  // namespace sluice::api
