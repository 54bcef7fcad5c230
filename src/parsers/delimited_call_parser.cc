#include "parsers/delimited_call_parser.h"

#include <nlohmann/json.hpp>

#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

constexpr size_t kMaxCallHeader = 512;

std::string_view trimmed(std::string_view s) {
  s.remove_prefix(skip_json_space(s));
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_json(char c) {
  return c == '{' || c == '[' || c == '"';
}

}  // namespace

void DelimitedCallParser::run() {
  while (pos_ < buf_.size() && step(rest())) {
  }
}

bool DelimitedCallParser::step(std::string_view text) {
  switch (state_) {
    case State::kText: {
      std::string_view both[] = {m_.section_open, m_.call_open};
      Markers markers = m_.section_open.empty() ? Markers(both).subspan(1) : Markers(both);
      MarkerHit hit = pass_to_marker(markers);
      if (!hit.found()) return false;
      if (markers[hit.which] == m_.call_open) {
        start_call(m_.call_open);
      } else {
        raw_ = m_.section_open;
        state_ = State::kSection;
      }
      return true;
    }
    case State::kSection: {  // whitespace, then the first call (or an empty section)
      size_t space = skip_json_space(text);
      raw_.append(text.substr(0, space));
      pos_ += space;
      text.remove_prefix(space);
      if (text.empty()) return false;
      for (std::string_view marker : {m_.call_open, m_.section_close}) {
        Lookahead match = starts_with_token(text, marker);
        if (match == Lookahead::kNeedMore) return false;
        if (match == Lookahead::kNo) continue;
        pos_ += marker.size();
        if (marker == m_.call_open) {
          start_call(std::string(raw_) + std::string(marker));
        } else {
          raw_.clear();  // an empty section is markup only
          state_ = State::kText;
        }
        return true;
      }
      give_back_as_content();
      return true;
    }
    case State::kHeader: {
      std::string_view end_only[] = {m_.header_end};
      MarkerHit hit = find_marker(text, end_only);
      size_t n = hit.found() ? hit.pos : text.size() - partial_marker_len(text, end_only);
      header_.append(text.substr(0, n));
      raw_.append(text.substr(0, n));
      pos_ += n;
      if (header_.size() > kMaxCallHeader || header_.find('\n') != std::string::npos) {
        give_back_as_content();
        return true;
      }
      if (!hit.found()) return false;
      raw_.append(m_.header_end);
      pos_ += m_.header_end.size();
      state_ = State::kAfterHeader;
      return true;
    }
    case State::kAfterHeader:
      return after_header(text);
    case State::kNameLine:
      return read_name_line(text);
    case State::kFence:
      return skip_fence(text);
    case State::kArgs:
      read_args(text);
      return state_ != State::kArgs;
    case State::kToClose: {
      std::string_view close_only[] = {m_.call_close};
      if (!pass_to_marker(close_only, Before::kDropped).found()) return false;
      end_call();
      return true;
    }
    case State::kBetween:
      return between(text);
  }
  return false;
}

// After header_end: JSON (or the call's end) means the header named the function; with
// name_line, anything else is the name's line.
bool DelimitedCallParser::after_header(std::string_view text) {
  size_t space = skip_json_space(text);
  if (space == text.size()) {
    raw_.append(text);
    pos_ += space;
    return false;
  }
  Lookahead closes = starts_with_token(text.substr(space), m_.call_close);
  if (closes == Lookahead::kNeedMore) return false;
  bool header_is_name = !m_.name_line || starts_json(text[space]) || closes == Lookahead::kYes;
  if (!header_is_name) {
    raw_.append(text.substr(0, space));
    pos_ += space;
    name_.clear();
    state_ = State::kNameLine;
    return true;
  }
  std::optional<std::string> name = call_name(trimmed(header_));
  if (!name || name->empty()) {
    give_back_as_content();
    return true;
  }
  commit(*name);
  state_ = State::kArgs;
  return true;
}

bool DelimitedCallParser::read_name_line(std::string_view text) {
  size_t end = text.find('\n');
  size_t n = end == std::string_view::npos ? text.size() : end;
  name_.append(text.substr(0, n));
  raw_.append(text.substr(0, n));
  pos_ += n;
  bool closes = name_.find(m_.call_close) != std::string::npos;
  if (name_.size() > kMaxCallHeader || closes) {
    give_back_as_content();
    return true;
  }
  if (end == std::string_view::npos) return false;
  ++pos_;
  std::string name(trimmed(name_));
  if (name.empty()) {
    give_back_as_content("\n");
    return true;
  }
  commit(name);
  state_ = State::kFence;
  return true;
}

// An optional ```json (or ```) line before the arguments.
bool DelimitedCallParser::skip_fence(std::string_view text) {
  size_t space = skip_json_space(text);
  pos_ += space;
  text.remove_prefix(space);
  if (text.empty()) return false;
  for (std::string_view fence : {"```json", "```"}) {
    Lookahead match = starts_with_token(text, fence);
    if (match == Lookahead::kNeedMore) return false;
    if (match == Lookahead::kYes) {
      pos_ += fence.size();
      break;
    }
  }
  state_ = State::kArgs;
  return true;
}

// The arguments value, up to its end or call_close (whichever comes first).
void DelimitedCallParser::read_args(std::string_view text) {
  std::string_view close_only[] = {m_.call_close};
  MarkerHit hit = find_marker(text, close_only);
  size_t avail = hit.found() ? hit.pos : text.size() - partial_marker_len(text, close_only);
  size_t start = 0, n = 0;
  bool ended = false;
  for (; n < avail && !ended; ++n) {
    char c = text[n];
    if (!scanner_.started() && is_json_space(c)) {
      start = n + 1;
      continue;
    }
    auto s = scanner_.push(c);
    if (s == JsonValueScanner::Step::kEndedBefore || s == JsonValueScanner::Step::kError) {
      ended = true;
      break;
    }
    ended = s == JsonValueScanner::Step::kEnded;
  }
  std::string_view piece = text.substr(start, n - start);
  if (!piece.empty()) {
    if (scanner_.first() == '"') {
      string_args_.append(piece);
    } else {
      sink_.arguments(next_index_, piece);
      args_seen_ = true;
    }
  }
  pos_ += n;
  if (ended) {
    state_ = State::kToClose;
  } else if (hit.found()) {
    pos_ += m_.call_close.size();
    end_call();
  }
}

// After a call: more calls, the section's end, or text.
bool DelimitedCallParser::between(std::string_view text) {
  size_t space = skip_json_space(text);
  gap_.text(text.substr(0, space), sink_);
  pos_ += space;
  text.remove_prefix(space);
  if (text.empty()) return false;
  for (std::string_view marker : {m_.call_open, m_.section_close}) {
    if (marker.empty()) continue;
    Lookahead match = starts_with_token(text, marker);
    if (match == Lookahead::kNeedMore) return false;
    if (match == Lookahead::kNo) continue;
    pos_ += marker.size();
    if (marker == m_.call_open) {
      start_call(marker);
    } else {
      state_ = State::kText;
    }
    return true;
  }
  state_ = State::kText;
  return true;
}

void DelimitedCallParser::start_call(std::string_view markup) {
  raw_ = markup;
  header_.clear();
  state_ = State::kHeader;
}

void DelimitedCallParser::commit(const std::string& name) {
  gap_.call_starts();
  sink_.begin(next_index_, name);
  raw_.clear();
  scanner_.reset();
  string_args_.clear();
  args_seen_ = false;
}

void DelimitedCallParser::end_call() {
  if (!string_args_.empty()) {
    auto j = nlohmann::json::parse(string_args_, nullptr, /*allow_exceptions=*/false);
    std::string decoded(j.is_string() ? trimmed(j.get<std::string>()) : trimmed(string_args_));
    if (!decoded.empty()) {
      sink_.arguments(next_index_, decoded);
      args_seen_ = true;
    }
    string_args_.clear();
  }
  if (!args_seen_) sink_.arguments(next_index_, "{}");
  sink_.end(next_index_++);
  gap_.call_ended();
  state_ = State::kBetween;
}

void DelimitedCallParser::give_back_as_content(std::string_view more) {
  give_back_raw(more);
  state_ = State::kText;
}

void DelimitedCallParser::at_end() {
  switch (state_) {
    case State::kText:
    case State::kBetween:
      gap_.text(rest(), sink_);  // a partial marker is text after all
      break;
    case State::kSection:
    case State::kHeader:
    case State::kAfterHeader:
    case State::kNameLine:
      give_back_as_content(rest());
      break;
    case State::kFence:
    case State::kArgs:
    case State::kToClose:
      end_call();
      break;
  }
  state_ = State::kText;
}

}  // namespace sluice::parsers
