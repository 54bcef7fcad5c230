#include "parsers/xml_param_call_parser.h"

#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

constexpr size_t kMaxName = 256;

std::string unquoted(std::string_view s) {
  s.remove_prefix(skip_json_space(s));
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

}  // namespace

void XmlParamCallParser::run() {
  while (pos_ < buf_.size() && step(rest())) {
  }
}

bool XmlParamCallParser::step(std::string_view text) {
  switch (state_) {
    case State::kText: {
      std::string_view open[] = {m_.section_open.empty() ? m_.call_open : m_.section_open};
      if (!pass_to_marker(open).found()) return false;
      raw_ = open[0];
      name_.clear();
      state_ = m_.section_open.empty() ? State::kName : State::kSection;
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
        raw_.append(marker);
        if (marker == m_.section_close) {
          raw_.clear();  // an empty section is markup only
          state_ = State::kText;
        } else {
          name_.clear();
          state_ = State::kName;
        }
        return true;
      }
      give_back_as_content();
      return true;
    }
    case State::kName:
      return read_name(text);
    case State::kBody:
    case State::kAfterCall: {  // markup and stray text between the pieces is dropped
      std::string_view body[] = {m_.param_open, m_.call_close};
      std::string_view after[] = {m_.call_open, m_.section_close};
      Markers markers = state_ == State::kBody ? Markers(body) : Markers(after);
      MarkerHit hit = pass_to_marker(markers, Before::kDropped);
      if (!hit.found()) return false;
      std::string_view marker = markers[hit.which];
      if (marker == m_.param_open) {
        key_.clear();
        state_ = State::kKey;
      } else if (marker == m_.call_close) {
        end_call();
      } else if (marker == m_.call_open) {
        raw_ = marker;
        name_.clear();
        state_ = State::kName;
      } else {
        state_ = State::kText;
      }
      return true;
    }
    case State::kKey:
      return read_key(text);
    case State::kValueOpen: {
      std::string_view markers[] = {m_.value_open, m_.call_close};
      MarkerHit hit = pass_to_marker(markers, Before::kDropped);
      if (!hit.found()) return false;
      if (hit.which == 0) {
        begin_param();
      } else {
        end_call();
      }
      return true;
    }
    case State::kValue:
      return read_value(text);
  }
  return false;
}

bool XmlParamCallParser::read_name(std::string_view text) {
  size_t end = text.find_first_of(m_.name_stops);
  size_t n = end == std::string_view::npos ? text.size() : end;
  name_.append(text.substr(0, n));
  raw_.append(text.substr(0, n));
  pos_ += n;
  if (name_.size() > kMaxName) {
    give_back_as_content();
    return true;
  }
  if (end == std::string_view::npos) return false;
  std::string name = unquoted(name_);
  if (name.empty()) {
    give_back_as_content();
    return true;
  }
  if (text[end] != '<') ++pos_;
  gap_.call_starts();
  sink_.begin(next_index_, name);
  sink_.arguments(next_index_, "{");
  raw_.clear();
  function_ = find_function(tools_, name);
  num_params_ = 0;
  state_ = State::kBody;
  return true;
}

bool XmlParamCallParser::read_key(std::string_view text) {
  std::string_view close_only[] = {m_.key_close};
  MarkerHit hit = find_marker(text, close_only);
  size_t n = hit.found() ? hit.pos : text.size() - partial_marker_len(text, close_only);
  key_.append(text.substr(0, n));
  pos_ += n;
  if (key_.size() > kMaxName) {
    state_ = State::kBody;  // a broken parameter tag is dropped
    return true;
  }
  if (!hit.found()) return false;
  pos_ += m_.key_close.size();
  key_ = unquoted(key_);
  if (m_.value_open.empty()) {
    begin_param();
  } else {
    state_ = State::kValueOpen;
  }
  return true;
}

void XmlParamCallParser::begin_param() {
  kind_ = param_kind(parameter_schema(function_, key_));
  std::string head = (num_params_++ > 0 ? ", " : "") + json_quote(key_) + ": ";
  if (kind_ == ParamKind::kString) head += '"';
  sink_.arguments(next_index_, head);
  value_.clear();
  state_ = State::kValue;
}

bool XmlParamCallParser::read_value(std::string_view text) {
  std::string_view close_only[] = {m_.value_close};
  MarkerHit hit = find_marker(text, close_only);
  if (!hit.found()) {
    size_t hold = partial_marker_len(text, close_only);
    value_piece(text.substr(0, text.size() - hold));
    pos_ = buf_.size() - hold;
    return false;
  }
  value_piece(text.substr(0, hit.pos));
  pos_ += hit.pos + m_.value_close.size();
  end_param();
  return true;
}

void XmlParamCallParser::value_piece(std::string_view piece) {
  if (kind_ != ParamKind::kString) {
    value_.append(piece);
    return;
  }
  std::string escaped;
  append_json_escaped(piece, escaped);
  sink_.arguments(next_index_, escaped);
}

void XmlParamCallParser::end_param() {
  sink_.arguments(next_index_,
                  kind_ == ParamKind::kString ? "\"" : typed_param_value(value_, kind_));
  state_ = State::kBody;
}

void XmlParamCallParser::end_call() {
  sink_.arguments(next_index_, "}");
  sink_.end(next_index_++);
  gap_.call_ended();
  state_ = m_.section_open.empty() ? State::kText : State::kAfterCall;
}

void XmlParamCallParser::give_back_as_content(std::string_view more) {
  give_back_raw(more);
  state_ = State::kText;
}

void XmlParamCallParser::at_end() {
  switch (state_) {
    case State::kText:
      gap_.text(rest(), sink_);  // a partial tag is text after all
      break;
    case State::kSection:
    case State::kName:
      give_back_as_content(rest());
      break;
    case State::kValue:
      value_piece(rest());  // a held partial close tag is value text after all
      end_param();
      end_call();
      break;
    case State::kBody:
    case State::kKey:
    case State::kValueOpen:
      end_call();
      break;
    case State::kAfterCall:
      break;
  }
  state_ = State::kText;
}

}  // namespace sluice::parsers
