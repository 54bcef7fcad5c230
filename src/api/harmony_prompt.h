#pragma once
// Chat messages (OpenAI shape, checked by chat_prompt.cc) -> a gpt-oss "harmony" prompt, written
// exactly as openai-harmony renders the conversation for completion (goldens:
// tests/reference/harmony). Models whose chat template is harmony's are rendered this way: their
// Jinja template differs from openai-harmony in details the model was trained on (the tool types,
// the arguments' and tool results' JSON, preambles, parallel calls).
//
// The mapping:
//   system message (ours)   model identity, knowledge cutoff, date, reasoning effort, channels
//   first system/developer  developer message: "# Instructions" + the function tools namespace
//   later system/developer  developer message with its instructions
//   user                    user message
//   assistant               reasoning_content (or reasoning / thinking) -> analysis message;
//                           with tool_calls: content -> commentary preamble, then one
//                           "to=functions.NAME" commentary message per call (arguments as given);
//                           else content -> final message
//   tool                    from "functions.NAME" (the call its tool_call_id names) to assistant
// Analysis messages before the first final message are dropped when the last assistant message is
// a final one (openai-harmony's auto_drop_analysis).
#include <string>

#include "api/json_fields.h"

namespace sluice::api {

struct HarmonyPromptOptions {
  std::string model_identity = "You are ChatGPT, a large language model trained by OpenAI.";
  std::string reasoning_effort = "medium";  // low | medium | high
  std::string date;                         // YYYY-MM-DD: "Current date"; empty: no line
  bool add_generation_prompt = true;        // end with "<|start|>assistant"
};

// tools: null or [{type: "function", function: {name, description?, parameters?}}]. Errors (a
// tool result with no earlier call) are 400s naming "messages".
std::string render_harmony_prompt(const Json& messages, const Json& tools,
                                  const HarmonyPromptOptions& options);

}  // namespace sluice::api
