#include "api/server_metrics.h"

#include <cstdio>

namespace sluice::api {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

ServerMetrics::ServerMetrics()
    : ttft_s({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_s({0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}),
      e2e_s({0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void ServerMetrics::count_request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void ServerMetrics::count_tokens(int64_t prompt, int64_t generated) {
  prompt_tokens_ += prompt;
  generated_tokens_ += generated;
}

std::string ServerMetrics::render(const EngineMetrics* e) const {
  std::string out;
  out += "# HELP sluice_requests_total HTTP requests by route and status.\n";
  out += "# TYPE sluice_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, n] : requests_)
      out += "sluice_requests_total{route=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  auto counter = [&](const char* name, const char* help, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
           " " + std::to_string(v) + "\n";
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
           " " + num(v) + "\n";
  };
  counter("sluice_prompt_tokens_total", "Prompt tokens of finished requests.",
          prompt_tokens_.load());
  counter("sluice_generation_tokens_total", "Generated tokens of finished requests.",
          generated_tokens_.load());
  ttft_s.render("sluice_time_to_first_token_seconds", "Time to first token.", out);
  inter_token_s.render("sluice_inter_token_latency_seconds", "Time between output tokens.", out);
  e2e_s.render("sluice_e2e_request_latency_seconds", "End-to-end request latency.", out);
  if (e) {
    gauge("sluice_num_requests_running", "Sequences running in the engine.", e->num_running);
    gauge("sluice_num_requests_waiting", "Sequences waiting in the engine.", e->num_waiting);
    gauge("sluice_kv_cache_blocks_total", "KV-cache blocks in the pool.", e->kv_blocks_total);
    gauge("sluice_kv_cache_blocks_used", "KV-cache blocks held by requests.", e->kv_blocks_used);
    gauge("sluice_kv_cache_usage_ratio", "Fraction of KV-cache blocks in use.",
          e->kv_blocks_total ? static_cast<double>(e->kv_blocks_used) / e->kv_blocks_total : 0.0);
    counter("sluice_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
            e->prefix_queries);
    counter("sluice_prefix_cache_hits_total", "Prompt tokens served from the prefix cache.",
            e->prefix_hits);
    gauge("sluice_prefix_cache_hit_rate", "Prefix-cache hits / queries.",
          e->prefix_queries ? static_cast<double>(e->prefix_hits) / e->prefix_queries : 0.0);
    counter("sluice_num_preemptions_total", "Sequences preempted for lack of KV blocks.",
            e->num_preemptions);
  }
  return out;
}

}  // namespace sluice::api
