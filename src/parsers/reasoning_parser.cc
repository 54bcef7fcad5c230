#include "parsers/reasoning_parser.h"

#include <array>

#include "parsers/text_scan.h"

namespace sluice::parsers {

ReasoningParser::ReasoningParser(std::string open_tag, std::string close_tag,
                                 bool starts_in_reasoning)
    : open_(std::move(open_tag)),
      close_(std::move(close_tag)),
      state_(starts_in_reasoning ? State::kReasoning : State::kBeforeOpen) {}

ReasoningParser::ReasoningParser(const ReasoningTags& tags, bool starts_in_reasoning)
    : ReasoningParser(tags.open, tags.close, starts_in_reasoning) {
  answer_open_ = tags.answer_open;
  answer_close_ = tags.answer_close;
}

bool ReasoningParser::in_reasoning() const {
  return state_ == State::kReasoning;
}

ReasoningDelta ReasoningParser::feed(std::string_view text) {
  held_.append(text);
  run(/*at_end=*/false);
  return take(/*final=*/false);
}

ReasoningDelta ReasoningParser::finish() {
  run(/*at_end=*/true);
  out_.content += lead_space_;  // output that was only whitespace
  lead_space_.clear();
  reasoning_space_.clear();  // reasoning is trimmed at its end even when unterminated
  return take(/*final=*/true);
}

void ReasoningParser::reasoning_text(std::string_view s) {
  size_t last_text = s.size();
  while (last_text > 0 && is_json_space(s[last_text - 1])) --last_text;
  if (last_text == 0) {
    reasoning_space_.append(s);
    return;
  }
  out_.reasoning += reasoning_space_;
  reasoning_space_.assign(s.substr(last_text));
  out_.reasoning.append(s.substr(0, last_text));
}

void ReasoningParser::run(bool at_end) {
  size_t pos = 0;
  while (pos < held_.size()) {
    std::string_view rest = std::string_view(held_).substr(pos);
    if (state_ == State::kBeforeOpen) {
      if (at_output_start_) {  // whitespace before an opening tag (GLM writes "\n<think>")
        if (is_json_space(rest[0])) {
          lead_space_ += rest[0];
          ++pos;
          continue;
        }
        if (!at_end && !rest.starts_with(open_) && is_prefix_of(rest, open_)) break;
        if (!rest.starts_with(open_)) out_.content += lead_space_;
        lead_space_.clear();
        at_output_start_ = false;
      }
      std::array<std::string_view, 1> tags = {open_};
      MarkerHit hit = find_marker(rest, tags);
      if (!hit.found()) {
        size_t hold = at_end ? 0 : partial_marker_len(rest, tags);
        out_.content.append(rest.substr(0, rest.size() - hold));
        pos = held_.size() - hold;
        break;
      }
      out_.content.append(rest.substr(0, hit.pos));
      pos += hit.pos + open_.size();
      state_ = State::kReasoning;
    } else if (state_ == State::kReasoning) {
      if (at_reasoning_start_) {
        if (is_json_space(rest[0])) {
          ++pos;
          continue;
        }
        if (rest.starts_with(open_)) {  // the open tag written again
          pos += open_.size();
          continue;
        }
        if (!at_end && is_prefix_of(rest, open_)) break;  // maybe the open tag again: wait
        at_reasoning_start_ = false;
      }
      std::array<std::string_view, 1> tags = {close_};
      MarkerHit hit = find_marker(rest, tags);
      if (!hit.found()) {
        size_t hold = at_end ? 0 : partial_marker_len(rest, tags);
        reasoning_text(rest.substr(0, rest.size() - hold));
        pos = held_.size() - hold;
        break;
      }
      reasoning_text(rest.substr(0, hit.pos));
      reasoning_space_.clear();
      pos += hit.pos + close_.size();
      state_ = State::kAfter;
    } else {
      if (at_content_start_) {
        while (pos < held_.size() && is_json_space(held_[pos])) ++pos;
        if (pos == held_.size()) break;
        rest = std::string_view(held_).substr(pos);
        if (!answer_open_.empty() && rest.starts_with(answer_open_)) {
          pos += answer_open_.size();
          continue;  // whitespace after it is dropped too
        }
        if (!at_end && !answer_open_.empty() && is_prefix_of(rest, answer_open_)) break;
        at_content_start_ = false;
      }
      if (answer_close_.empty()) {
        out_.content.append(held_, pos);
        pos = held_.size();
        continue;
      }
      std::array<std::string_view, 1> tags = {answer_close_};
      MarkerHit hit = find_marker(rest, tags);
      size_t n =
          hit.found() ? hit.pos : rest.size() - (at_end ? 0 : partial_marker_len(rest, tags));
      out_.content.append(rest.substr(0, n));
      pos += hit.found() ? n + answer_close_.size() : n;
      if (!hit.found()) break;
    }
  }
  held_.erase(0, pos);
}

ReasoningDelta ReasoningParser::take(bool final) {
  ReasoningDelta ready;
  auto split = [final](std::string& pending, std::string& ready_text) {
    size_t keep = final ? 0 : incomplete_utf8_tail(pending);
    ready_text = pending.substr(0, pending.size() - keep);
    pending.erase(0, pending.size() - keep);
  };
  split(out_.reasoning, ready.reasoning);
  split(out_.content, ready.content);
  return ready;
}

std::optional<ReasoningTags> detect_reasoning_tags(std::string_view chat_template) {
  static const ReasoningTags kFamilies[] = {
      {"<|channel>thought", "<channel|>"},  // Gemma 4: the thought channel
      {"[THINK]", "[/THINK]"},              // Mistral (Magistral, Ministral reasoning)
      {"<think>", "</think>"},
  };
  auto has = [&](std::string_view s) { return chat_template.find(s) != std::string_view::npos; };
  for (ReasoningTags tags : kFamilies) {
    if (!has(tags.open) || !has(tags.close)) continue;
    if (tags.open == "<think>" && has("<response></response>")) {  // Granite 3.3
      tags.answer_open = "<response>";
      tags.answer_close = "</response>";
    }
    return tags;
  }
  return std::nullopt;
}

bool prompt_opens_reasoning(std::string_view rendered_prompt, const ReasoningTags& tags) {
  while (!rendered_prompt.empty() && is_json_space(rendered_prompt.back())) {
    rendered_prompt.remove_suffix(1);
  }
  return rendered_prompt.ends_with(tags.open);
}

}  // namespace sluice::parsers
