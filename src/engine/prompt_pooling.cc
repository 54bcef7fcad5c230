#include "engine/prompt_pooling.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace sluice {

namespace {
// Unique among live requests: the engine refuses a duplicate id.
std::string next_request_id() {
  static std::atomic<uint64_t> last{0};
  return "prompt-only-" + std::to_string(++last);
}
}  // namespace

RequestResult<std::vector<std::vector<float>>> run_prompt_only(
    Engine& engine, std::vector<std::vector<int32_t>> prompts, PromptOutput output,
    const std::vector<int32_t>& logit_ids, const std::string& param) {
  std::vector<std::pair<std::string, std::shared_ptr<RequestStream>>> live;
  for (size_t i = 0; i < prompts.size(); ++i) {
    EngineRequest r;
    const std::string id = next_request_id();
    r.id = id;
    r.prompt = std::move(prompts[i]);
    r.params.max_tokens = 1;
    r.output = output;
    r.logit_ids = logit_ids;
    auto stream = engine.submit(std::move(r));
    if (!stream) {
      for (const auto& [id, s] : live) engine.abort(id);
      RequestError e = stream.request_error();
      if (e.kind != RequestErrorKind::kInvalidParameter) return e;
      const std::string which = prompts.size() > 1 ? param + "[" + std::to_string(i) + "]" : param;
      return RequestError::invalid(param, which + ": " + e.message);
    }
    live.emplace_back(id, std::move(*stream));
  }
  std::vector<std::vector<float>> out(live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    for (;;) {
      RequestOutput o = *live[i].second->next();
      if (!o.finished) continue;
      if (o.prompt_output.empty()) {  // aborted (shutting down) or failed
        for (size_t j = i + 1; j < live.size(); ++j) engine.abort(live[j].first);
        return RequestError{RequestErrorKind::kUnavailable, "",
                            o.error.empty() ? "the engine stopped" : o.error};
      }
      out[i] = std::move(o.prompt_output);
      break;
    }
  }
  return out;
}

std::vector<float> finish_embedding(std::vector<float> v, int64_t dimensions, bool normalize) {
  if (dimensions > 0 && dimensions < static_cast<int64_t>(v.size())) v.resize(dimensions);
  if (!normalize) return v;
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  const double scale = 1.0 / std::max(std::sqrt(sum), 1e-12);  // as torch's F.normalize
  for (float& x : v) x = static_cast<float>(x * scale);
  return v;
}

float yes_probability(float yes_logit, float no_logit) {
  return static_cast<float>(1.0 / (1.0 + std::exp(static_cast<double>(no_logit) - yes_logit)));
}

RequestResult<std::vector<std::vector<float>>> embed_last_token(
    Engine& engine, std::vector<std::vector<int32_t>> inputs, int64_t dimensions, bool normalize) {
  auto rows = run_prompt_only(engine, std::move(inputs), PromptOutput::kLastHidden, {}, "input");
  if (!rows) return rows.request_error();
  for (std::vector<float>& v : *rows) v = finish_embedding(std::move(v), dimensions, normalize);
  return rows;
}

RequestResult<std::vector<float>> score_yes_no(Engine& engine,
                                               std::vector<std::vector<int32_t>> prompts,
                                               int32_t yes_id, int32_t no_id,
                                               const std::string& param) {
  auto rows = run_prompt_only(engine, std::move(prompts), PromptOutput::kLastLogits,
                              {yes_id, no_id}, param);
  if (!rows) return rows.request_error();
  std::vector<float> scores;
  for (const std::vector<float>& v : *rows) scores.push_back(yes_probability(v[0], v[1]));
  return scores;
}

}  // namespace sluice
