#pragma once
// Helpers for the API's chat tests.
#include <nlohmann/json.hpp>

#include "api/chat_prompt.h"

namespace sluice::testing {

// A chat request of one user message, "hi".
inline api::ChatPromptInput ask() {
  api::ChatPromptInput in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
  return in;
}

}  // namespace sluice::testing
