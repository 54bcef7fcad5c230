#pragma once
// Splits model output into reasoning (between the template's tags: "<think>...</think>",
// "[THINK]...[/THINK]", ...) and the rest, streaming: any split of the input yields the same
// concatenated reasoning and content.
//
// Rules: output before the first open tag is content (unless starts_in_reasoning), except
// whitespace alone before it (GLM writes "\n<think>"); the first open tag starts reasoning, the
// first close tag after it ends it; everything after is content (later tags included). An open tag
// repeated at the very start of reasoning is dropped (models whose prompt already opened it
// sometimes write it again). Whitespace at both ends of the reasoning, and at the start of the
// content after it, is dropped; so are answer markers (<response>) in the content after it.
// Unterminated reasoning stays reasoning at finish(). Partial tags and partial UTF-8 characters are
// held until decided.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::parsers {

struct ReasoningTags {
  std::string open = "<think>";
  std::string close = "</think>";
  // Markers around the answer after the section (Granite 3.3's <response>...</response>):
  // dropped from the content; empty: none.
  std::string answer_open, answer_close;
};

struct ReasoningDelta {
  std::string reasoning;
  std::string content;
};

class ReasoningParser {
 public:
  // starts_in_reasoning: the prompt already opened the tag (templates that end with "<think>\n").
  ReasoningParser(std::string open_tag, std::string close_tag, bool starts_in_reasoning);
  ReasoningParser(const ReasoningTags& tags, bool starts_in_reasoning);
  ReasoningDelta feed(std::string_view text);
  ReasoningDelta finish();
  bool in_reasoning() const;

 private:
  enum class State { kBeforeOpen, kReasoning, kAfter };
  void run(bool at_end);
  void reasoning_text(std::string_view s);
  ReasoningDelta take(bool final);

  void answer_text(std::string_view s, bool at_end);

  std::string open_, close_, answer_open_, answer_close_, held_;
  State state_;
  bool at_reasoning_start_ = true;  // leading whitespace / a repeated open tag still dropped
  bool at_content_start_ = true;    // leading whitespace after the close tag still dropped
  bool at_output_start_ = true;     // only whitespace so far (before any open tag)
  std::string lead_space_;          // that whitespace: dropped if the open tag follows
  std::string reasoning_space_;     // trailing reasoning whitespace, kept if more text follows
  ReasoningDelta out_;              // not yet returned (may end in a partial UTF-8 character)
};

// The reasoning tags a chat template writes (it mentions both): Gemma 4's
// "<|channel>thought" ... "<channel|>", Mistral's "[THINK]" ... "[/THINK]", else "<think>" ...
// "</think>" (Qwen3, DeepSeek R1, GLM, MiniMax, Granite 3.3, which also asks for its answer in
// <response></response>); nullopt when it has none (gpt-oss's harmony channels are the harmony
// format's own).
std::optional<ReasoningTags> detect_reasoning_tags(std::string_view chat_template);
// Whether a rendered prompt leaves the model inside reasoning: it ends with the open tag
// (whitespace after it allowed), as DeepSeek-R1 distills, QwQ and Qwen3.5 prompts do.
bool prompt_opens_reasoning(std::string_view rendered_prompt, const ReasoningTags& tags);

}  // namespace sluice::parsers
