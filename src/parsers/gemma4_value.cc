#include "parsers/gemma4_value.h"

#include <array>
#include <nlohmann/json.hpp>

#include "parsers/text_scan.h"

namespace sluice::parsers {

size_t Gemma4ValueConverter::feed(std::string_view text, std::string& json) {
  size_t i = 0;
  while (i < text.size() && state_ == State::kReading) {
    std::string_view rest = text.substr(i);
    if (in_string_) {
      size_t end = rest.find(kGemmaQuote);
      if (end == std::string_view::npos) {
        std::array<std::string_view, 1> quote = {kGemmaQuote};
        size_t n = rest.size() - partial_marker_len(rest, quote);
        append_json_escaped(rest.substr(0, n), json);
        return i + n;
      }
      append_json_escaped(rest.substr(0, end), json);
      json += '"';
      in_string_ = false;
      i += end + kGemmaQuote.size();
      if (string_is_key_) {
        expect_ = Expect::kColon;
      } else if (stack_.empty()) {
        state_ = State::kDone;
      } else {
        expect_ = Expect::kCommaOrClose;
      }
      continue;
    }
    if (!in_word_ && expect_ != Expect::kColon && expect_ != Expect::kCommaOrClose) {
      Lookahead quote = starts_with_token(rest, kGemmaQuote);
      if (quote == Lookahead::kNeedMore) return i;
      if (quote == Lookahead::kYes) {
        string_is_key_ = expect_ == Expect::kFirstKey || expect_ == Expect::kKey;
        in_string_ = true;
        json += '"';
        i += kGemmaQuote.size();
        continue;
      }
    }
    if (!step(rest[0], json)) {
      state_ = State::kFailed;
      return i;
    }
    ++i;
  }
  return i;
}

bool Gemma4ValueConverter::step(char c, std::string& json) {
  const bool key = expect_ == Expect::kFirstKey || expect_ == Expect::kKey;
  if (in_word_) {
    if (c != ',' && c != '}' && c != ']' && !(key && c == ':')) {
      word_ += c;
      return true;
    }
    end_word(json);
    if (state_ != State::kReading) return true;
  }
  if (is_json_space(c)) return true;
  const bool structural = c == '{' || c == '[' || c == ',' || c == '}' || c == ']' || c == ':';
  switch (expect_) {
    case Expect::kValue:
    case Expect::kFirstItem:
      if (c == ']' && expect_ == Expect::kFirstItem) {
        close_container(json);
      } else if (c == '{' || c == '[') {
        json += c;
        stack_.push_back(c);
        expect_ = c == '{' ? Expect::kFirstKey : Expect::kFirstItem;
      } else if (structural) {
        return false;
      } else {
        in_word_ = true;
        word_.assign(1, c);
      }
      return true;
    case Expect::kFirstKey:
    case Expect::kKey:
      if (c == '}' && expect_ == Expect::kFirstKey) {
        close_container(json);
        return true;
      }
      if (structural) return false;
      in_word_ = true;
      word_.assign(1, c);
      return true;
    case Expect::kColon:
      if (c != ':') return false;
      json += ':';
      expect_ = Expect::kValue;
      return true;
    case Expect::kCommaOrClose:
      if (c == ',') {
        json += ',';
        expect_ = stack_.back() == '{' ? Expect::kKey : Expect::kValue;
        return true;
      }
      if ((c == '}' && stack_.back() == '{') || (c == ']' && stack_.back() == '[')) {
        close_container(json);
        return true;
      }
      return false;
  }
  return false;
}

void Gemma4ValueConverter::close_container(std::string& json) {
  json += stack_.back() == '{' ? '}' : ']';
  stack_.pop_back();
  if (stack_.empty()) {
    state_ = State::kDone;
  } else {
    expect_ = Expect::kCommaOrClose;
  }
}

void Gemma4ValueConverter::end_word(std::string& json) {
  in_word_ = false;
  size_t end = word_.size();
  while (end > 0 && is_json_space(word_[end - 1])) --end;
  std::string_view word(word_.data(), end);
  if (expect_ == Expect::kFirstKey || expect_ == Expect::kKey) {
    json += json_quote(word);
    expect_ = Expect::kColon;
  } else {
    json += gemma4_scalar_json(word);
    if (stack_.empty()) {
      state_ = State::kDone;
    } else {
      expect_ = Expect::kCommaOrClose;
    }
  }
  word_.clear();
}

void Gemma4ValueConverter::finish(std::string_view tail, std::string& json) {
  if (state_ != State::kReading) return;
  if (in_string_) {
    append_json_escaped(tail, json);
  } else if (in_word_ && expect_ != Expect::kFirstKey && expect_ != Expect::kKey) {
    word_.append(tail);
    end_word(json);
  }
}

std::string gemma4_scalar_json(std::string_view word) {
  if (word == "true" || word == "True") return "true";
  if (word == "false" || word == "False") return "false";
  if (word == "null" || word == "None") return "null";
  auto number = nlohmann::json::parse(word, nullptr, /*allow_exceptions=*/false);
  if (!number.is_discarded() && number.is_number()) return std::string(word);
  return json_quote(word);
}

}  // namespace sluice::parsers
