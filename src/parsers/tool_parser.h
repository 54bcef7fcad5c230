#pragma once
// Tool-call parsing of model output text, streaming: text goes in as it is generated (any split),
// events come out; the events of any split concatenate to the non-streamed result. One file per
// format behind this interface; each format also writes the grammar that forces its own call
// syntax.
//
// Semantics shared by every format:
// - Markup never reaches content: a possible partial tag at the end of a feed is held until the
//   next bytes decide; an incomplete UTF-8 character at the end of a delta is held too.
// - A call begins (kToolCallBegin) as soon as its name is complete; from then on it is a call,
//   whatever follows. Arguments arrive as kToolArguments pieces: for the JSON formats the
//   arguments text exactly as generated (whitespace-trimmed); for qwen3_coder, glm45 and
//   minimax_m2 the JSON built from the parameters; for gemma4 and pythonic their syntax
//   converted to JSON.
//   Missing or null arguments are "{}".
// - A block that is not a call before its name is known (broken JSON, `{"answer": 1}`) is content,
//   markup included: the model wrote it.
// - finish(): a partial tag is content; a call whose name is complete ends with the arguments
//   received so far (possibly incomplete JSON when the output was cut: finish_reason "length");
//   one cut before its name is content.
// - A call naming a function that is not in the tools is still a call: the API decides.
// - Whitespace right before a call, between calls, and after the last call at the end of output
//   is dropped from content; text after a call is content (with the whitespace before it).
// - Formats whose output also carries reasoning (harmony's analysis channel) emit kReasoning
//   pieces too and say so with reasoning_section().
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "structured/grammar.h"

namespace sluice::parsers {

struct ParseEvent {
  enum class Kind {
    kContent,        // text: plain assistant text
    kToolCallBegin,  // index, name (arguments follow)
    kToolArguments,  // index, text: the next piece of the arguments JSON
    kToolCallEnd,    // index
    kReasoning,      // text: reasoning (formats with a reasoning_section() only)
  };
  Kind kind;
  int index = 0;
  std::string text;
  std::string name;
};

struct ToolCall {
  std::string name;
  std::string arguments;  // JSON object text (concatenation of its kToolArguments pieces)
};

// Markup of a format's own reasoning section, for the engine's reasoning control: open ... close
// (harmony: "<|channel|>analysis<|message|>" ... "<|end|>"); `answer` opens the answer after it.
struct ReasoningSection {
  std::string open, close, answer;
};

// What the request allows: the tools (OpenAI `function` objects: name, description, parameters).
struct ToolSpec {
  nlohmann::ordered_json functions;  // [{name, description?, parameters?}]
};

class ToolParser {
 public:
  virtual ~ToolParser() = default;
  virtual void feed(std::string_view text, std::vector<ParseEvent>& out) = 0;
  virtual void finish(std::vector<ParseEvent>& out) = 0;  // end of output: flush what is held
};

class ToolFormat {
 public:
  virtual ~ToolFormat() = default;
  // "hermes", "qwen3_coder", "llama3_json", "mistral", "json", "harmony", "deepseek_v3",
  // "deepseek_v31", "kimi_k2", "glm45", "minimax_m2", "granite", "functionary_v3", "gemma4"
  virtual std::string name() const = 0;
  // A fresh parser per response (choice): parsers hold per-stream state.
  virtual std::unique_ptr<ToolParser> make_parser(const ToolSpec& tools) const = 0;
  // Special-token texts the parser must see (e.g. "<|python_tag|>", "[TOOL_CALLS]"): decode the
  // output for the parser with these tokens kept (others may be skipped as usual).
  virtual std::vector<std::string> markers() const { return {}; }
  // Grammar for output that is ONLY tool calls: `only` = one named function (else any of them);
  // min_calls/max_calls bound how many (parallel_tool_calls=false: max 1).
  virtual Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                                    const std::optional<std::string>& only,
                                                    int min_calls, int max_calls) const = 0;
  // Formats that parse reasoning too: its section's markup. The engine leaves the section
  // unconstrained, so a grammar of such a format skips its body and close (see harmony).
  virtual std::optional<ReasoningSection> reasoning_section() const { return std::nullopt; }
  // Grammar for output whose answer is `answer` (response_format): formats that frame every
  // message wrap it; the default is the answer alone.
  virtual structured::NodePtr answer_grammar(structured::NodePtr answer) const { return answer; }
};

// By name; nullptr for an unknown name.
std::unique_ptr<ToolFormat> make_tool_format(std::string_view name);
// Every name make_tool_format() takes, in registry order.
std::vector<std::string> tool_format_names();
// Chooses from the chat template text (and architecture): e.g. "<tool_call>" -> hermes,
// "<function=" -> qwen3_coder, "<|python_tag|>" -> llama3_json, "[TOOL_CALLS]" -> mistral,
// "<|channel|>" -> harmony, "<｜tool▁calls▁begin｜>" -> deepseek_v3 / deepseek_v31,
// "<|tool_calls_section_begin|>" -> kimi_k2, "<arg_key>" -> glm45, "<minimax:tool_call>" ->
// minimax_m2, "<|tool_call|>" -> granite, ">>>${recipient}" -> functionary_v3,
// "<|tool_call>call:" -> gemma4, "[func_name1(" -> pythonic; else "json".
std::string detect_tool_format(std::string_view chat_template, std::string_view architecture);

// Convenience: whole text -> content + calls (what non-streamed responses use).
struct ParsedOutput {
  std::string reasoning;  // kReasoning pieces
  std::string content;
  std::vector<ToolCall> calls;
};
ParsedOutput parse_all(ToolParser& parser, std::string_view text);

}  // namespace sluice::parsers
