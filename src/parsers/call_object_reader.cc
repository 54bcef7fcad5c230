#include "parsers/call_object_reader.h"

#include <nlohmann/json.hpp>

#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

std::string decode_json_string(const std::string& raw) {
  auto j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  return j.is_string() ? j.get<std::string>() : std::string();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void CallObjectReader::start(int index) {
  *this = CallObjectReader();
  index_ = index;
}

void CallObjectReader::emit_args(std::string_view text, EventSink& sink) {
  if (committed_) {
    sink.arguments(index_, text);
  } else {
    held_args_.append(text);
  }
}

void CallObjectReader::end_call(EventSink& sink) {
  if (!have_args_) sink.arguments(index_, "{}");
  sink.end(index_);
  state_ = State::kDone;
}

bool CallObjectReader::on_key_end() {
  std::string key = decode_json_string(key_);
  if (key == "name" && !have_name_) {
    role_ = ValueRole::kName;
  } else if ((key == "arguments" || key == "parameters") && !have_args_) {
    role_ = ValueRole::kArgs;
  } else {
    role_ = ValueRole::kSkip;
    if (!committed_ && key != "type" && key != "id") return false;
  }
  return true;
}

void CallObjectReader::on_value_start(char c, EventSink& sink) {
  value_.clear();
  args_streamed_ = role_ == ValueRole::kArgs && c == '{';
  if (role_ == ValueRole::kArgs) have_args_ = true;
  on_value_byte(c, sink);
}

void CallObjectReader::on_value_byte(char c, EventSink& sink) {
  if (args_streamed_) {
    emit_args(std::string_view(&c, 1), sink);
  } else if (role_ != ValueRole::kSkip) {
    value_.push_back(c);
  }
}

bool CallObjectReader::on_value_end(EventSink& sink) {
  if (role_ == ValueRole::kName) {
    if (scanner_.first() != '"') return committed_;  // a name that is not a string: not a call
    have_name_ = true;
    committed_ = true;
    sink.begin(index_, decode_json_string(value_));
    if (!held_args_.empty()) sink.arguments(index_, held_args_);
    held_args_.clear();
  } else if (role_ == ValueRole::kArgs) {
    have_args_ = true;
    if (!args_streamed_) {
      std::string text = value_;
      if (scanner_.first() == '"') text = std::string(trim(decode_json_string(value_)));
      if (text.empty() || text == "null") text = "{}";
      emit_args(text, sink);
    }
  }
  return true;
}

size_t CallObjectReader::read(std::string_view text, size_t pos, EventSink& sink) {
  auto fail = [&] {
    if (committed_) {
      end_call(sink);
    } else {
      state_ = State::kFailed;
    }
  };
  while (pos < text.size() && state_ == State::kReading) {
    char c = text[pos];
    switch (phase_) {
      case Phase::kOpen:
        if (is_json_space(c)) break;
        if (c != '{') return fail(), pos;
        phase_ = Phase::kKeyStart;
        break;
      case Phase::kKeyStart:
        if (is_json_space(c)) break;
        if (c == '}') {
          if (!committed_) return fail(), pos;
          end_call(sink);
          break;
        }
        if (c != '"') return fail(), pos;
        key_ = "\"";
        key_escaped_ = false;
        phase_ = Phase::kKey;
        break;
      case Phase::kKey:
        key_.push_back(c);
        if (key_escaped_) {
          key_escaped_ = false;
        } else if (c == '\\') {
          key_escaped_ = true;
        } else if (c == '"') {
          if (!on_key_end()) return fail(), pos + 1;
          phase_ = Phase::kColon;
        }
        break;
      case Phase::kColon:
        if (is_json_space(c)) break;
        if (c != ':') return fail(), pos;
        phase_ = Phase::kValueStart;
        break;
      case Phase::kValueStart:
        if (is_json_space(c)) break;
        scanner_.reset();
        if (scanner_.push(c) == JsonValueScanner::Step::kError) return fail(), pos;
        on_value_start(c, sink);
        phase_ = Phase::kValue;
        break;
      case Phase::kValue: {
        auto step = scanner_.push(c);
        if (step == JsonValueScanner::Step::kError) return fail(), pos;
        if (step == JsonValueScanner::Step::kEndedBefore) {
          if (!on_value_end(sink)) return fail(), pos;
          phase_ = Phase::kAfterValue;
          continue;  // this byte follows the value: read it again
        }
        on_value_byte(c, sink);
        if (step == JsonValueScanner::Step::kEnded) {
          if (!on_value_end(sink)) return fail(), pos + 1;
          phase_ = Phase::kAfterValue;
        }
        break;
      }
      case Phase::kAfterValue:
        if (is_json_space(c)) break;
        if (c == ',') {
          phase_ = Phase::kKeyStart;
        } else if (c == '}') {
          if (!committed_) return fail(), pos;
          end_call(sink);
        } else {
          return fail(), pos;
        }
        break;
    }
    ++pos;
  }
  return pos;
}

void CallObjectReader::finish(EventSink& sink) {
  if (state_ != State::kReading) return;
  if (!committed_) {
    state_ = State::kFailed;
    return;
  }
  if (phase_ == Phase::kValue && role_ == ValueRole::kArgs && !args_streamed_) {
    // A scalar or string arguments value cut short: give what arrived, as arrived.
    sink.arguments(index_, value_ == "null" ? "{}" : value_);
  }
  end_call(sink);
}

}  // namespace sluice::parsers
