#pragma once
// Finds a model's chat template and its special-token texts: a .jinja file, a
// tokenizer_config.json, a model directory (chat_template.jinja or tokenizer_config.json), or a
// GGUF file (tokenizer.chat_template; bos/eos texts from tokenizer.ggml.tokens).
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace sluice {

struct ChatTemplateSource {
  std::string source;  // the Jinja text
  std::string origin;  // file it came from
  // Special-token template variables as transformers passes them (bos_token, eos_token,
  // unk_token, pad_token, ..., additional_special_tokens); only those the model defines.
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
};

// has_tools: pick a tokenizer_config's "tool_use" template when one exists (transformers does).
Result<ChatTemplateSource> load_chat_template_source(const std::string& path,
                                                     bool has_tools = false);

}  // namespace sluice
