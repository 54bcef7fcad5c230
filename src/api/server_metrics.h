#pragma once
// Prometheus metrics of the HTTP layer (requests by route, model and status; token counts;
// latency histograms) plus the engine's gauges, rendered as text exposition format by /metrics.
// Names follow vLLM's (vllm:* -> sluice_*); docs/API.md lists them.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "engine/engine.h"

namespace sluice::api {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends "<name>_bucket{<labels>,le=..}", "_sum", "_count" lines; `labels` is k="v",...
  void render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// One model's latency histograms and token counts; the registry keeps them across reloads.
struct ModelMetrics {
  ModelMetrics();
  // Time to first token, between tokens, per output token after the first, end to end.
  Histogram ttft_s, inter_token_s, tpot_s, e2e_s;
  std::atomic<int64_t> prompt_tokens{0}, generated_tokens{0};
  void count_tokens(int64_t prompt, int64_t generated) {
    prompt_tokens += prompt;
    generated_tokens += generated;
  }
};

class ServerMetrics {
 public:
  // Once per response, after it was written (499: the client left first).
  void count_request(const std::string& route, const std::string& model, int status);
  struct ServerGauges {
    int64_t in_flight = 0;  // requests admitted by the HTTP layer and not finished
    bool draining = false;  // shutting down: new requests get 503
    // Media decoded, and media a memo knew (no decoding), by kind.
    int64_t image_decodes = 0, image_memo_hits = 0, video_decodes = 0, video_memo_hits = 0;
  };
  // One model of the registry as /metrics shows it: every series carries model="<id>".
  struct ModelSample {
    std::string model;
    const ModelMetrics* metrics = nullptr;
    const EngineMetrics* engine = nullptr;  // null: not loaded (or an encoder model)
    bool loaded = false;
  };
  std::string render(const std::vector<ModelSample>& models, const ServerGauges& server) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
};

}  // namespace sluice::api
