// Picks a tool-call format by name or from the chat template; parse_all for whole outputs.
#include "parsers/tool_formats.h"

namespace sluice::parsers {

namespace {
struct NamedFormat {
  const char* name;
  std::unique_ptr<ToolFormat> (*make)();
};
constexpr NamedFormat kFormats[] = {{"hermes", make_hermes_format},
                                    {"qwen3_coder", make_qwen3_coder_format},
                                    {"llama3_json", make_llama3_json_format},
                                    {"mistral", make_mistral_format},
                                    {"json", make_json_format},
                                    {"harmony", make_harmony_format},
                                    {"deepseek_v3", make_deepseek_v3_format},
                                    {"deepseek_v31", make_deepseek_v31_format},
                                    {"kimi_k2", make_kimi_k2_format},
                                    {"glm45", make_glm45_format},
                                    {"minimax_m2", make_minimax_m2_format},
                                    {"granite", make_granite_format},
                                    {"functionary_v3", make_functionary_v3_format},
                                    {"gemma4", make_gemma4_format},
                                    {"pythonic", make_pythonic_format},
                                    {"llama4_pythonic", make_llama4_pythonic_format}};
}  // namespace

std::unique_ptr<ToolFormat> make_tool_format(std::string_view name) {
  for (const NamedFormat& f : kFormats)
    if (name == f.name) return f.make();
  return nullptr;
}

std::vector<std::string> tool_format_names() {
  std::vector<std::string> names;
  for (const NamedFormat& f : kFormats) names.emplace_back(f.name);
  return names;
}

std::string detect_tool_format(std::string_view chat_template, std::string_view architecture) {
  auto has = [&](std::string_view s) { return chat_template.find(s) != std::string_view::npos; };
  if (has("<|channel|>")) return "harmony";  // gpt-oss: every message names its channel
  // DeepSeek V3 / R1 (and the R1 distills) fence the arguments in ```json; V3.1 does not.
  if (has("<｜tool▁calls▁begin｜>")) return has("```json") ? "deepseek_v3" : "deepseek_v31";
  if (has("<|tool_calls_section_begin|>")) return "kimi_k2";
  if (has("<|tool_call>call:")) return "gemma4";
  if (has("<minimax:tool_call>")) return "minimax_m2";
  if (has("<|tool_call|>")) return "granite";  // Granite 3.x: <|tool_call|>[...]
  if (has(">>>${recipient}")) return "functionary_v3";
  if (has("<arg_key>")) return "glm45";  // GLM's <tool_call> holds <arg_key> pairs, not JSON
  // Qwen3-Coder / Qwen3.5 render calls as <tool_call><function=...>: check before plain
  // <tool_call>.
  if (has("<function=")) return "qwen3_coder";
  if (has("<tool_call>")) return "hermes";
  if (has("[TOOL_CALLS]")) return "mistral";
  // Llama 3.2 / Llama 4 pythonic prompts show the call list: "[func_name1(param1=value1, ...".
  if (has("[func_name1(")) return "pythonic";
  // Llama 3.1/3.3 name <|python_tag|>; Llama 3.2 only has the ipython role for tool results.
  if (has("<|python_tag|>") || has("<|start_header_id|>ipython")) return "llama3_json";
  // A template that renders no tool syntax: Qwen-family models still emit Hermes calls.
  if (architecture == "qwen2" || architecture == "qwen3" || architecture == "smollm3") {
    return "hermes";
  }
  return "json";
}

ParsedOutput parse_all(ToolParser& parser, std::string_view text) {
  std::vector<ParseEvent> events;
  parser.feed(text, events);
  parser.finish(events);
  ParsedOutput out;
  for (const ParseEvent& e : events) {
    switch (e.kind) {
      case ParseEvent::Kind::kContent:
        out.content += e.text;
        break;
      case ParseEvent::Kind::kToolCallBegin:
        out.calls.push_back({e.name, ""});
        break;
      case ParseEvent::Kind::kToolArguments:
        if (e.index >= 0 && e.index < static_cast<int>(out.calls.size())) {
          out.calls[e.index].arguments += e.text;
        }
        break;
      case ParseEvent::Kind::kToolCallEnd:
        break;
      case ParseEvent::Kind::kReasoning:
        out.reasoning += e.text;
        break;
    }
  }
  return out;
}

}  // namespace sluice::parsers
