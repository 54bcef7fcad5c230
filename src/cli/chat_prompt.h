#pragma once
// The model's chat template applied to one user message (for `run --chat`).
#include <string>

#include "common/status.h"

namespace sluice {

class Model;

// The model's chat template applied to one user message, with the generation prompt.
Result<std::string> render_chat_prompt(const Model& model, const std::string& user_message);

}  // namespace sluice
