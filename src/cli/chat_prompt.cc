#include "cli/sampling.h"

#include <algorithm>
#include <cmath>

#include "model/model.h"
#include "tokenizer/chat_template/chat_template.h"

namespace sluice {

int32_t Sampler::sample(const std::vector<float>& logits) {
  const auto best = std::max_element(logits.begin(), logits.end());
  if (temp_ == 0.0f) return static_cast<int32_t>(best - logits.begin());
  probs_.resize(logits.size());
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probs_[i] = std::exp((static_cast<double>(logits[i]) - *best) / temp_);
    total += probs_[i];
  }
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (size_t i = 0; i < probs_.size(); ++i) {
    r -= probs_[i];
    if (r <= 0.0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(best - logits.begin());
}

Result<std::string> render_chat_prompt(const Model& model, const std::string& user_message) {
  if (model.chat_template().empty())
    return Status::error("chat", model.path() + ": the model has no chat template");
  SLUICE_ASSIGN_OR_RETURN(ChatTemplate tpl, ChatTemplate::parse(model.chat_template()));
  const Tokenizer& tok = model.tokenizer();
  nlohmann::ordered_json ctx;
  ctx["messages"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", user_message}}});
  ctx["add_generation_prompt"] = true;
  ctx["bos_token"] = tok.bos_id() ? tok.token_text(*tok.bos_id()) : "";
  ctx["eos_token"] = tok.eos_id() ? tok.token_text(*tok.eos_id()) : "";
  return tpl.render(ctx);
}

}  // namespace sluice
