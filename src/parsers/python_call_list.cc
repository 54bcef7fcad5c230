#include "parsers/python_call_list.h"

#include <cstdint>

#include "common/utf8_append.h"
#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

constexpr size_t kMaxWord = 256;
constexpr size_t kMaxDepth = 32;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_alpha(c) || is_digit(c);
}
// Tool and parameter names may hold '-' and '.' (JSON Schema allows them), Python's do not.
bool is_call_name_char(char c) {
  return is_ident_char(c) || c == '-' || c == '.';
}
bool is_scalar_char(char c) {
  return is_ident_char(c) || c == '.' || c == '+' || c == '-';
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Digits (of `base`) with single underscores between them, underscores dropped.
bool strip_digits(std::string_view s, int base, std::string& out) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i - 1] == '_') return false;
      continue;
    }
    int v = hex_value(s[i]);
    if (v < 0 || v >= base) return false;
    out += s[i];
  }
  return true;
}

std::string without_leading_zeros(const std::string& digits) {
  size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

}  // namespace

std::string python_scalar_json(std::string_view w) {
  if (w == "True") return "true";
  if (w == "False") return "false";
  if (w == "None") return "null";
  std::string sign;
  if (!w.empty() && (w[0] == '+' || w[0] == '-')) {
    if (w[0] == '-') sign = "-";
    w.remove_prefix(1);
  }
  if (w.size() > 2 && w[0] == '0' && is_alpha(w[1])) {  // 0x.., 0o.., 0b..
    const char b = static_cast<char>(w[1] | 0x20);
    const int base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 0;
    std::string digits;
    if (base == 0 || !strip_digits(w.substr(2), base, digits)) return "";
    uint64_t v = 0;
    for (char c : digits) {
      if (v > (UINT64_MAX - 15) / 16) return "";  // too large to convert exactly
      v = v * base + hex_value(c);
    }
    return sign + std::to_string(v);
  }
  const size_t e = w.find_first_of("eE");
  const std::string_view mantissa = w.substr(0, e);
  const size_t dot = mantissa.find('.');
  const std::string_view int_part = mantissa.substr(0, dot);
  const std::string_view frac_part = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return "";
  std::string int_digits, frac_digits;
  if (!int_part.empty() && !strip_digits(int_part, 10, int_digits)) return "";
  if (!frac_part.empty() && !strip_digits(frac_part, 10, frac_digits)) return "";
  if (dot == std::string_view::npos && e == std::string_view::npos) {
    // Python rejects leading zeros in a nonzero int ("007").
    if (int_digits.size() > 1 && int_digits[0] == '0' &&
        int_digits.find_first_not_of('0') != std::string::npos)
      return "";
    return sign + without_leading_zeros(int_digits);
  }
  std::string exponent;
  if (e != std::string_view::npos) {
    std::string_view x = w.substr(e + 1);
    exponent = "e";
    if (!x.empty() && (x[0] == '+' || x[0] == '-')) {
      exponent += x[0];
      x.remove_prefix(1);
    }
    if (!strip_digits(x, 10, exponent)) return "";
  }
  std::string json = sign + without_leading_zeros(int_digits);
  if (dot != std::string_view::npos) json += "." + (frac_digits.empty() ? "0" : frac_digits);
  return json + exponent;
}

PythonCallListReader::PythonCallListReader(bool space_before_list)
    : expect_(Expect::kListOpen), space_before_list_(space_before_list) {}

size_t PythonCallListReader::feed(std::string_view text) {
  size_t i = 0;
  for (; i < text.size() && state_ == State::kReading; ++i, ++fed_) {
    if (!step(text[i])) {
      state_ = State::kFailed;
      return i;
    }
  }
  return i;
}

bool PythonCallListReader::step(char c) {
  if (string_ != StringPart::kNone) return string_byte(c);
  if (in_word_) {
    const bool extends = expect_ == Expect::kCallName  ? is_call_name_char(c)
                         : expect_ == Expect::kKeyword ? is_call_name_char(c)
                                                       : is_scalar_char(c);
    if (extends) {
      word_ += c;
      return word_.size() <= kMaxWord;
    }
    in_word_ = false;
    if (!end_word()) return false;
  }
  if (is_space(c)) return expect_ != Expect::kListOpen || space_before_list_;
  const bool quote = c == '"' || c == '\'';
  switch (expect_) {
    case Expect::kListOpen:
      if (c != '[') return false;
      expect_ = Expect::kCallName;
      return true;
    case Expect::kCallName:
      if (c == ']' && !calls_.empty()) {  // after a trailing comma
        state_ = State::kDone;
        return true;
      }
      if (!is_alpha(c)) return false;
      pending_call_offset_ = fed_;
      in_word_ = true;
      word_.assign(1, c);
      return true;
    case Expect::kCallParen:
      if (c != '(') return false;
      calls_.push_back({word_, "{"});
      frames_.assign(1, Frame::kCall);
      has_items_.assign(1, false);
      keywords_.clear();
      expect_ = Expect::kKeyword;
      return true;
    case Expect::kKeyword:
      if (c == ')') return close(c);
      if (!is_alpha(c)) return false;
      in_word_ = true;
      word_.assign(1, c);
      return true;
    case Expect::kEquals:
      if (c != '=') return false;
      expect_ = Expect::kValue;
      return true;
    case Expect::kItem:
    case Expect::kValue:
      if (expect_ == Expect::kItem && (c == ']' || c == ')')) return close(c);
      begin_item();
      if (quote) {
        string_ = StringPart::kOpening;
        quote_ = c;
        quotes_seen_ = 1;
        string_is_key_ = false;
        return true;
      }
      if (c == '[') return open(Frame::kList);
      if (c == '(') return open(Frame::kTuple);
      if (c == '{') return open(Frame::kDict);
      if (!is_scalar_char(c)) return false;
      in_word_ = true;
      word_.assign(1, c);
      return true;
    case Expect::kAfterValue:
      if (c != ',') return close(c);
      switch (frames_.back()) {
        case Frame::kCall:
          expect_ = Expect::kKeyword;
          break;
        case Frame::kDict:
          expect_ = Expect::kKey;
          break;
        default:
          expect_ = Expect::kItem;
      }
      return true;
    case Expect::kKey:
      if (c == '}') return close(c);
      if (has_items_.back()) out() += ',';
      if (quote) {
        string_ = StringPart::kOpening;
        quote_ = c;
        quotes_seen_ = 1;
        string_is_key_ = true;
        return true;
      }
      if (!is_scalar_char(c)) return false;
      in_word_ = true;
      word_.assign(1, c);
      return true;
    case Expect::kColon:
      if (c != ':') return false;
      out() += ':';
      expect_ = Expect::kValue;
      return true;
    case Expect::kAfterCall:
      if (c == ']') {
        state_ = State::kDone;
        return true;
      }
      if (c != ',') return false;
      expect_ = Expect::kCallName;
      return true;
  }
  return false;
}

void PythonCallListReader::begin_item() {
  if (frames_.back() != Frame::kCall && frames_.back() != Frame::kDict && has_items_.back())
    out() += ',';
}

bool PythonCallListReader::open(Frame frame) {
  if (frames_.size() >= kMaxDepth) return false;
  out() += frame == Frame::kDict ? '{' : '[';
  frames_.push_back(frame);
  has_items_.push_back(false);
  expect_ = frame == Frame::kDict ? Expect::kKey : Expect::kItem;
  return true;
}

bool PythonCallListReader::close(char c) {
  const Frame top = frames_.back();
  const bool matches = (c == ')' && (top == Frame::kCall || top == Frame::kTuple)) ||
                       (c == ']' && top == Frame::kList) || (c == '}' && top == Frame::kDict);
  if (!matches) return false;
  out() += top == Frame::kCall || top == Frame::kDict ? '}' : ']';
  frames_.pop_back();
  has_items_.pop_back();
  if (frames_.empty()) {
    expect_ = Expect::kAfterCall;
    return true;
  }
  value_done();
  return true;
}

void PythonCallListReader::value_done() {
  has_items_.back() = true;
  expect_ = Expect::kAfterValue;
}

bool PythonCallListReader::end_word() {
  switch (expect_) {
    case Expect::kCallName:
      expect_ = Expect::kCallParen;
      return true;
    case Expect::kKeyword:
      if (!keywords_.insert(word_).second) return false;  // a repeated keyword
      if (has_items_.back()) out() += ',';
      out() += json_quote(word_) + ':';
      expect_ = Expect::kEquals;
      return true;
    case Expect::kKey: {
      std::string key = python_scalar_json(word_);
      if (key.empty()) return false;
      out() += json_quote(key);
      expect_ = Expect::kColon;
      return true;
    }
    default: {
      std::string json = python_scalar_json(word_);
      if (json.empty()) return false;
      out() += json;
      value_done();
      return true;
    }
  }
}

bool PythonCallListReader::string_byte(char c) {
  switch (string_) {
    case StringPart::kOpening:
      if (c == quote_) {
        if (++quotes_seen_ == 3) {
          triple_ = true;
          quotes_seen_ = 0;
          text_.clear();
          string_ = StringPart::kBody;
        }
        return true;
      }
      text_.clear();
      if (quotes_seen_ == 2) {  // "" then something else: an empty string
        end_string();
        return step(c);
      }
      triple_ = false;
      quotes_seen_ = 0;
      string_ = StringPart::kBody;
      return string_byte(c);
    case StringPart::kBody:
      if (triple_ && quotes_seen_ > 0 && c != quote_) {  // quotes that did not close it
        text_.append(quotes_seen_, quote_);
        quotes_seen_ = 0;
      }
      if (c == quote_) {
        if (!triple_ || ++quotes_seen_ == 3) end_string();
        return true;
      }
      if (c == '\\') {
        string_ = StringPart::kEscape;
        return true;
      }
      if ((c == '\n' || c == '\r') && !triple_) return false;
      text_ += c;
      return true;
    case StringPart::kEscape:
      return escape_byte(c);
    case StringPart::kCode: {
      if (code_kind_ == 'o') {
        if (c >= '0' && c <= '7' && code_digits_ < 3) {
          code_ = code_ * 8 + (c - '0');
          if (++code_digits_ < 3) return true;
          string_ = StringPart::kBody;
          return write_code_point(code_);
        }
        string_ = StringPart::kBody;
        return write_code_point(code_) && string_byte(c);
      }
      const int v = hex_value(c);
      if (v < 0) return false;
      code_ = code_ * 16 + v;
      const int need = code_kind_ == 'x' ? 2 : code_kind_ == 'u' ? 4 : 8;
      if (++code_digits_ < need) return true;
      string_ = StringPart::kBody;
      return write_code_point(code_);
    }
    case StringPart::kNone:
      break;
  }
  return false;
}

bool PythonCallListReader::escape_byte(char c) {
  string_ = StringPart::kBody;
  switch (c) {
    case '\n':  // a line continuation
      return true;
    case '\\':
    case '\'':
    case '"':
      text_ += c;
      return true;
    case 'n':
      text_ += '\n';
      return true;
    case 't':
      text_ += '\t';
      return true;
    case 'r':
      text_ += '\r';
      return true;
    case 'b':
      text_ += '\b';
      return true;
    case 'f':
      text_ += '\f';
      return true;
    case 'v':
      text_ += '\v';
      return true;
    case 'a':
      text_ += '\a';
      return true;
    case 'x':
    case 'u':
    case 'U':
      code_kind_ = c;
      code_ = 0;
      code_digits_ = 0;
      string_ = StringPart::kCode;
      return true;
    case 'N':  // \N{NAME}: not supported
      return false;
    default:
      if (c >= '0' && c <= '7') {
        code_kind_ = 'o';
        code_ = c - '0';
        code_digits_ = 1;
        string_ = StringPart::kCode;
        return true;
      }
      text_ += '\\';  // Python keeps an unknown escape as written
      text_ += c;
      return true;
  }
}

bool PythonCallListReader::write_code_point(uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  utf8_append(text_, cp);
  return true;
}

void PythonCallListReader::end_string() {
  string_ = StringPart::kNone;
  out() += json_quote(text_);
  text_.clear();
  if (string_is_key_) {
    expect_ = Expect::kColon;
  } else {
    value_done();
  }
}

void PythonCallListReader::finish() {
  if (state_ != State::kReading || frames_.empty()) return;
  if (in_word_ && (expect_ == Expect::kValue || expect_ == Expect::kItem)) {
    out() += python_scalar_json(word_);
  } else if (string_ == StringPart::kBody && !string_is_key_) {
    if (triple_) text_.append(quotes_seen_, quote_);
    out() += '"';
    append_json_escaped(text_, out());
  }
  in_word_ = false;
  string_ = StringPart::kNone;
}

}  // namespace sluice::parsers
