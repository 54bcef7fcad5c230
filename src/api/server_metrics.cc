#include "api/server_metrics.h"

#include <cmath>
#include <cstdio>
#include <optional>

namespace sluice::api {

namespace {
std::string num(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)  // counts stay exact
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
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

void Histogram::render(const std::string& name, const std::string& labels, std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sep = labels.empty() ? "" : ",";
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

ModelMetrics::ModelMetrics()
    : ttft_s({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_s({0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}),
      tpot_s({0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}),
      e2e_s({0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void ServerMetrics::count_request(const std::string& route, const std::string& model, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, model, status}];
}

std::string ServerMetrics::render(const std::vector<ModelSample>& models,
                                  const ServerGauges& server) const {
  std::string out;
  auto header = [&](const std::string& name, const char* type, const char* help) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  header("sluice_requests_total", "counter", "HTTP requests by route, model and status.");
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, n] : requests_) {
      const auto& [route, req_model, status] = key;
      out += "sluice_requests_total{route=\"" + label_value(route) + "\",model=\"" +
             label_value(req_model) + "\",status=\"" + std::to_string(status) + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  header("sluice_http_requests_in_flight", "gauge",
         "Generation requests admitted and not finished, over every model.");
  out += "sluice_http_requests_in_flight " + std::to_string(server.in_flight) + "\n";
  header("sluice_server_draining", "gauge", "1 while shutting down (new requests get 503).");
  out += std::string("sluice_server_draining ") + (server.draining ? "1" : "0") + "\n";
  header("sluice_media_decodes_total", "counter",
         "Images and videos decoded (a memo's repeats are not decoded again).");
  out += "sluice_media_decodes_total{kind=\"image\"} " + std::to_string(server.image_decodes) +
         "\nsluice_media_decodes_total{kind=\"video\"} " + std::to_string(server.video_decodes) +
         "\n";
  header("sluice_media_memo_hits_total", "counter",
         "Images and videos known by their bytes' digest, so neither decoded nor hashed again.");
  out += "sluice_media_memo_hits_total{kind=\"image\"} " + std::to_string(server.image_memo_hits) +
         "\nsluice_media_memo_hits_total{kind=\"video\"} " +
         std::to_string(server.video_memo_hits) + "\n";

  auto labels = [](const ModelSample& m) { return "model=\"" + label_value(m.model) + "\""; };
  // One family: its header, then a sample per model for which `value` has one.
  auto family = [&](const char* type, const char* name, const char* help, auto value) {
    std::string samples;
    for (const ModelSample& m : models)
      if (std::optional<double> v = value(m))
        samples += std::string(name) + "{" + labels(m) + "} " + num(*v) + "\n";
    if (samples.empty()) return;
    header(name, type, help);
    out += samples;
  };
  auto histogram = [&](const char* name, const char* help, Histogram ModelMetrics::*h) {
    header(name, "histogram", help);
    for (const ModelSample& m : models) (m.metrics->*h).render(name, labels(m), out);
  };
  using Value = std::optional<double>;
  family("gauge", "sluice_model_loaded", "1 while the model is loaded.",
         [](const ModelSample& m) -> Value { return m.loaded ? 1 : 0; });
  family("counter", "sluice_prompt_tokens_total", "Prompt tokens of finished requests.",
         [](const ModelSample& m) -> Value { return m.metrics->prompt_tokens.load(); });
  family("counter", "sluice_generation_tokens_total", "Generated tokens of finished requests.",
         [](const ModelSample& m) -> Value { return m.metrics->generated_tokens.load(); });
  histogram("sluice_time_to_first_token_seconds", "Time to first token.", &ModelMetrics::ttft_s);
  histogram("sluice_inter_token_latency_seconds", "Time between output tokens.",
            &ModelMetrics::inter_token_s);
  histogram("sluice_time_per_output_token_seconds",
            "Mean time per output token after the first, per request.", &ModelMetrics::tpot_s);
  histogram("sluice_e2e_request_latency_seconds", "End-to-end request latency.",
            &ModelMetrics::e2e_s);

  // The engine's series, for loaded models with an engine; `when` picks the models a family
  // applies to (hybrid models' state slots, vision models' encoder cache).
  auto engine = [&](const char* type, const char* name, const char* help, auto read,
                    bool (*when)(const EngineMetrics&) = nullptr) {
    family(type, name, help, [&](const ModelSample& m) -> Value {
      if (!m.engine || (when && !when(*m.engine))) return std::nullopt;
      return static_cast<double>(read(*m.engine));
    });
  };
  using E = const EngineMetrics&;
  engine("gauge", "sluice_num_requests_running", "Sequences running in the engine.",
         [](E e) { return e.num_running; });
  engine("gauge", "sluice_num_requests_waiting", "Sequences waiting in the engine (queue depth).",
         [](E e) { return e.num_waiting; });
  engine("gauge", "sluice_kv_cache_blocks_total", "KV-cache blocks in the pool.",
         [](E e) { return e.kv_blocks_total; });
  engine("gauge", "sluice_kv_cache_blocks_used", "KV-cache blocks held by requests.",
         [](E e) { return e.kv_blocks_used; });
  engine("gauge", "sluice_kv_cache_usage_ratio", "Fraction of KV-cache blocks in use.", [](E e) {
    return e.kv_blocks_total ? static_cast<double>(e.kv_blocks_used) / e.kv_blocks_total : 0.0;
  });
  engine("counter", "sluice_prefix_cache_queries_total",
         "Prompt tokens looked up in the prefix cache.", [](E e) { return e.prefix_queries; });
  engine("counter", "sluice_prefix_cache_hits_total", "Prompt tokens served from the prefix cache.",
         [](E e) { return e.prefix_hits; });
  engine("gauge", "sluice_prefix_cache_hit_rate", "Prefix-cache hits / queries.", [](E e) {
    return e.prefix_queries ? static_cast<double>(e.prefix_hits) / e.prefix_queries : 0.0;
  });
  engine("counter", "sluice_num_preemptions_total", "Sequences preempted for lack of KV blocks.",
         [](E e) { return e.num_preemptions; });
  auto hybrid = [](E e) { return e.state_slots_total > 0; };
  engine(
      "gauge", "sluice_state_slots_used", "Recurrent-state slots held by running sequences.",
      [](E e) { return e.state_slots_used; }, hybrid);
  engine(
      "gauge", "sluice_state_snapshots_held", "Recurrent-state prefix snapshots kept.",
      [](E e) { return e.state_snapshots_held; }, hybrid);
  engine(
      "gauge", "sluice_state_snapshots_total", "Recurrent-state prefix snapshot slots.",
      [](E e) { return e.state_snapshots_total; }, hybrid);
  auto vision = [](E e) { return e.vision; };
  engine(
      "counter", "sluice_images_encoded_total", "Images run through the vision encoder.",
      [](E e) { return e.images_encoded; }, vision);
  engine(
      "counter", "sluice_encoder_cache_hits_total", "Images served from the encoder cache.",
      [](E e) { return e.encoder_cache_hits; }, vision);
  engine(
      "gauge", "sluice_encoder_cache_bytes", "Encoder outputs cached by image content.",
      [](E e) { return e.encoder_cache_bytes; }, vision);
  engine(
      "gauge", "sluice_encoder_cache_budget_bytes", "The encoder cache's budget.",
      [](E e) { return e.encoder_cache_budget; }, vision);
  engine(
      "gauge", "sluice_encoder_cache_entries", "Images in the encoder cache.",
      [](E e) { return e.encoder_cache_entries; }, vision);
  return out;
}

}  // namespace sluice::api
