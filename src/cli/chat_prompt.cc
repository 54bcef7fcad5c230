#include "cli/chat_prompt.h"

#include <algorithm>
#include <cmath>

#include "model/model.h"
#include "tokenizer/chat_template/chat_template.h"

namespace sluice {

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
