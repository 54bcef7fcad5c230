#include "api/server_metrics.h"

#include <cstdio>

namespace sluice::api {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// A label value escaped for the text format (backslash, quote, newline).
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
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

void Histogram::render(const std::string& name, const std::string& help, const std::string& labels,
                       std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sep = labels.empty() ? "" : ",";
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + num(bounds_[i]) + "\"} " +
           std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(cum) + "\n";
  const std::string braced = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braced + " " + num(sum_) + "\n" + name + "_count" + braced + " " +
         std::to_string(count_) + "\n";
}

ServerMetrics::ServerMetrics()
    : ttft_s({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_s({0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}),
      tpot_s({0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}),
      e2e_s({0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void ServerMetrics::count_request(const std::string& route, const std::string& model, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, model, status}];
}

void ServerMetrics::count_tokens(int64_t prompt, int64_t generated) {
  prompt_tokens_ += prompt;
  generated_tokens_ += generated;
}

void ServerMetrics::set_model(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = model;
}

std::string ServerMetrics::render(const EngineMetrics* e, const ServerGauges& server) const {
  std::string out, model;
  out += "# HELP sluice_requests_total HTTP requests by route, model and status.\n";
  out += "# TYPE sluice_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mu_);
    model = "model=\"" + label_value(model_) + "\"";
    for (const auto& [key, n] : requests_) {
      const auto& [route, req_model, status] = key;
      out += "sluice_requests_total{route=\"" + label_value(route) + "\",model=\"" +
             label_value(req_model) + "\",status=\"" + std::to_string(status) + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  auto sample = [&](const char* type, const char* name, const char* help, const std::string& v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + "{" + model + "} " + v + "\n";
  };
  auto counter = [&](const char* name, const char* help, int64_t v) {
    sample("counter", name, help, std::to_string(v));
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    sample("gauge", name, help, num(v));
  };
  counter("sluice_prompt_tokens_total", "Prompt tokens of finished requests.",
          prompt_tokens_.load());
  counter("sluice_generation_tokens_total", "Generated tokens of finished requests.",
          generated_tokens_.load());
  ttft_s.render("sluice_time_to_first_token_seconds", "Time to first token.", model, out);
  inter_token_s.render("sluice_inter_token_latency_seconds", "Time between output tokens.", model,
                       out);
  tpot_s.render("sluice_time_per_output_token_seconds",
                "Mean time per output token after the first, per request.", model, out);
  e2e_s.render("sluice_e2e_request_latency_seconds", "End-to-end request latency.", model, out);
  gauge("sluice_http_requests_in_flight", "Generation requests admitted and not finished.",
        static_cast<double>(server.in_flight));
  gauge("sluice_server_draining", "1 while shutting down (new requests get 503).",
        server.draining ? 1 : 0);
  if (e) {
    gauge("sluice_num_requests_running", "Sequences running in the engine.", e->num_running);
    gauge("sluice_num_requests_waiting", "Sequences waiting in the engine (queue depth).",
          e->num_waiting);
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
    if (e->state_slots_total > 0) {  // hybrid models
      gauge("sluice_state_slots_used", "Recurrent-state slots held by running sequences.",
            e->state_slots_used);
      gauge("sluice_state_snapshots_held", "Recurrent-state prefix snapshots kept.",
            e->state_snapshots_held);
      gauge("sluice_state_snapshots_total", "Recurrent-state prefix snapshot slots.",
            e->state_snapshots_total);
    }
    if (e->encoder_cache_budget > 0) {  // vision models
      counter("sluice_images_encoded_total", "Images run through the vision encoder.",
              e->images_encoded);
      counter("sluice_encoder_cache_hits_total", "Images served from the encoder cache.",
              e->encoder_cache_hits);
      gauge("sluice_encoder_cache_bytes", "Encoder outputs cached by image content.",
            e->encoder_cache_bytes);
      gauge("sluice_encoder_cache_budget_bytes", "The encoder cache's budget.",
            e->encoder_cache_budget);
      gauge("sluice_encoder_cache_entries", "Images in the encoder cache.",
            e->encoder_cache_entries);
    }
  }
  return out;
}

}  // namespace sluice::api
