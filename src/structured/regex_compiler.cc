#include "structured/regex_compiler.h"

#include <algorithm>
#include <cctype>

#include "common/utf8_append.h"

namespace sluice::structured {

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int32_t kMaxRepeat = 1000;

std::vector<CodeRange> normalize(std::vector<CodeRange> r) {
  std::sort(r.begin(), r.end());
  std::vector<CodeRange> out;
  for (const CodeRange& x : r) {
    if (!out.empty() && x.first <= out.back().second + 1)
      out.back().second = std::max(out.back().second, x.second);
    else
      out.push_back(x);
  }
  return out;
}

std::vector<CodeRange> complement(const std::vector<CodeRange>& r) {
  std::vector<CodeRange> out;
  uint32_t next = 0;
  for (const CodeRange& x : normalize(r)) {
    if (x.first > next) out.push_back({next, x.first - 1});
    next = x.second + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

int utf8_len(uint32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

std::string encode(uint32_t c) {
  std::string s;
  utf8_append(s, c);
  return s;
}

// One range of code points with the same UTF-8 length -> byte-class sequences.
void split_range(uint32_t lo, uint32_t hi, std::vector<NodePtr>& out) {
  const int n = utf8_len(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        split_range(lo, lo | m, out);
        split_range((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        split_range(lo, (hi & ~m) - 1, out);
        split_range(hi & ~m, hi, out);
        return;
      }
    }
  }
  const std::string a = encode(lo), b = encode(hi);
  std::vector<ByteSet> classes;
  for (size_t k = 0; k < a.size(); ++k) {
    ByteSet s;
    for (int x = uint8_t(a[k]); x <= uint8_t(b[k]); ++x) s.set(x);
    classes.push_back(s);
  }
  out.push_back(byte_classes(std::move(classes)));
}

}  // namespace

NodePtr utf8_ranges_node(const std::vector<CodeRange>& ranges) {
  std::vector<NodePtr> alts;
  for (CodeRange r : normalize(ranges)) {
    // Drop surrogates, then split at the UTF-8 length boundaries.
    std::vector<CodeRange> parts;
    if (r.second < 0xD800 || r.first > 0xDFFF) {
      parts.push_back(r);
    } else {
      if (r.first < 0xD800) parts.push_back({r.first, 0xD7FF});
      if (r.second > 0xDFFF) parts.push_back({0xE000, r.second});
    }
    for (CodeRange p : parts) {
      for (uint32_t bound : {0x7Fu, 0x7FFu, 0xFFFFu, 0x10FFFFu}) {
        if (p.first > p.second || p.first > bound) continue;
        const uint32_t end = std::min(p.second, bound);
        split_range(p.first, end, alts);
        p.first = end + 1;
      }
    }
  }
  if (alts.size() == 1) return alts[0];
  return choice(std::move(alts));
}

NodePtr any_code_point() {
  static const NodePtr n = choice({byte_range(0x00, 0x7F), utf8_multibyte_char()});
  return n;
}

namespace {

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}

  Result<NodePtr> parse_top() {
    std::vector<NodePtr> alts;
    while (true) {
      bool anchored_start = false, anchored_end = false;
      if (peek() == '^') ++pos_, anchored_start = true;
      SLUICE_ASSIGN_OR_RETURN(NodePtr seq, parse_sequence(/*top=*/true, anchored_end));
      std::vector<NodePtr> parts;
      if (!anchored_start) parts.push_back(repeat(any_code_point(), 0, -1));
      parts.push_back(seq);
      if (!anchored_end) parts.push_back(repeat(any_code_point(), 0, -1));
      alts.push_back(sequence(std::move(parts)));
      if (pos_ >= p_.size()) break;
      if (peek() == '|') {
        ++pos_;
        continue;
      }
      return error("unbalanced ')'");
    }
    return alts.size() == 1 ? alts[0] : choice(std::move(alts));
  }

 private:
  char peek() const { return pos_ < p_.size() ? p_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= p_.size(); }
  Status error(const std::string& what) const {
    return Status::error(
        "pattern", what + " at offset " + std::to_string(pos_) + " of /" + std::string(p_) + "/");
  }

  Result<NodePtr> parse_alternation() {
    std::vector<NodePtr> alts;
    while (true) {
      bool dummy = false;
      SLUICE_ASSIGN_OR_RETURN(NodePtr seq, parse_sequence(false, dummy));
      alts.push_back(seq);
      if (peek() != '|') break;
      ++pos_;
    }
    return alts.size() == 1 ? alts[0] : choice(std::move(alts));
  }

  Result<NodePtr> parse_sequence(bool top, bool& anchored_end) {
    std::vector<NodePtr> items;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') {
        ++pos_;
        if (!top || !(at_end() || peek() == '|'))
          return error("'$' is supported only at the end of a top-level alternative");
        anchored_end = true;
        break;
      }
      if (peek() == '^') return error("'^' is supported only at the start of the pattern");
      SLUICE_ASSIGN_OR_RETURN(NodePtr atom, parse_atom());
      SLUICE_ASSIGN_OR_RETURN(NodePtr quantified, parse_quantifier(atom));
      items.push_back(quantified);
    }
    return items.size() == 1 ? items[0] : sequence(std::move(items));
  }

  Result<NodePtr> parse_quantifier(NodePtr atom) {
    while (!at_end()) {
      int32_t min = -1, max = -1;
      const char c = peek();
      if (c == '*') {
        min = 0, max = -1, ++pos_;
      } else if (c == '+') {
        min = 1, max = -1, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{') {
        const size_t save = pos_;
        ++pos_;
        auto read_int = [&](int32_t& v) {
          if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
          int64_t x = 0;
          while (std::isdigit(static_cast<unsigned char>(peek())))
            x = std::min<int64_t>(x * 10 + (p_[pos_++] - '0'), 1 << 30);
          v = static_cast<int32_t>(x);
          return true;
        };
        if (!read_int(min)) {  // not a quantifier: a literal '{'
          pos_ = save;
          return atom;
        }
        max = min;
        if (peek() == ',') {
          ++pos_;
          if (!read_int(max)) max = -1;
        }
        if (peek() != '}') return error("malformed {m,n} quantifier");
        ++pos_;
        if (max >= 0 && max < min) return error("quantifier {m,n} with n < m");
        if (min > kMaxRepeat || max > kMaxRepeat) return error("repetition count over 1000");
      } else {
        break;
      }
      if (peek() == '+') return error("possessive quantifiers are not supported");
      if (peek() == '?') ++pos_;  // lazy: same language
      atom = repeat(atom, min, max);
    }
    return atom;
  }

  Result<NodePtr> parse_atom() {
    const char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (peek() == '?') {
        ++pos_;
        const char k = peek();
        if (k == ':') {
          ++pos_;
        } else if (k == 'P' || (k == '<' && pos_ + 1 < p_.size() && p_[pos_ + 1] != '=' &&
                                p_[pos_ + 1] != '!')) {
          if (k == 'P') ++pos_;
          if (peek() != '<') return error("unsupported group syntax");
          while (!at_end() && peek() != '>') ++pos_;
          if (at_end()) return error("unterminated group name");
          ++pos_;
        } else if (k == '=' || k == '!' || k == '<') {
          return error("lookaround is not supported");
        } else {
          return error("inline flags and special groups are not supported");
        }
      }
      SLUICE_ASSIGN_OR_RETURN(NodePtr inner, parse_alternation());
      if (peek() != ')') return error("missing ')'");
      ++pos_;
      return inner;
    }
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return utf8_ranges_node({{0, '\n' - 1}, {'\n' + 1, kMaxCodePoint}});
    }
    if (c == '*' || c == '+' || c == '?') return error("quantifier without an atom");
    if (c == '\\') {
      std::vector<CodeRange> ranges;
      SLUICE_RETURN_IF_ERROR(parse_escape(ranges, /*in_class=*/false));
      return utf8_ranges_node(ranges);
    }
    SLUICE_ASSIGN_OR_RETURN(uint32_t cp, read_code_point());
    return literal(encode(cp));
  }

  Result<uint32_t> read_code_point() {
    const uint8_t b = static_cast<uint8_t>(p_[pos_]);
    const int n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (n == 0 || pos_ + n > p_.size()) return error("invalid UTF-8 in pattern");
    uint32_t cp = n == 1 ? b : b & (0xFF >> (n + 1));
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(p_[pos_ + k]) & 0x3F);
    pos_ += n;
    return cp;
  }

  static std::vector<CodeRange> digit() { return {{'0', '9'}}; }
  static std::vector<CodeRange> word() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
  static std::vector<CodeRange> space() { return {{'\t', '\r'}, {' ', ' '}}; }

  Status read_hex(int digits, uint32_t& out) {
    out = 0;
    for (int k = 0; k < digits; ++k) {
      const char h = peek();
      if (!std::isxdigit(static_cast<unsigned char>(h))) return error("bad hex escape");
      out = out * 16 +
            (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
      ++pos_;
    }
    return Status::ok();
  }

  // After '\\': appends the escape's code point ranges.
  Status parse_escape(std::vector<CodeRange>& out, bool in_class) {
    ++pos_;
    if (at_end()) return error("trailing backslash");
    const char c = p_[pos_++];
    auto add = [&](std::vector<CodeRange> r) { out.insert(out.end(), r.begin(), r.end()); };
    switch (c) {
      case 'd':
        add(digit());
        return Status::ok();
      case 'D':
        add(complement(digit()));
        return Status::ok();
      case 'w':
        add(word());
        return Status::ok();
      case 'W':
        add(complement(word()));
        return Status::ok();
      case 's':
        add(space());
        return Status::ok();
      case 'S':
        add(complement(space()));
        return Status::ok();
      case 't':
        out.push_back({'\t', '\t'});
        return Status::ok();
      case 'n':
        out.push_back({'\n', '\n'});
        return Status::ok();
      case 'r':
        out.push_back({'\r', '\r'});
        return Status::ok();
      case 'f':
        out.push_back({'\f', '\f'});
        return Status::ok();
      case 'v':
        out.push_back({'\v', '\v'});
        return Status::ok();
      case 'x': {
        uint32_t v;
        SLUICE_RETURN_IF_ERROR(read_hex(2, v));
        out.push_back({v, v});
        return Status::ok();
      }
      case 'u': {
        uint32_t v;
        SLUICE_RETURN_IF_ERROR(read_hex(4, v));
        out.push_back({v, v});
        return Status::ok();
      }
      case 'b':
        if (in_class) {
          out.push_back({'\b', '\b'});
          return Status::ok();
        }
        return error("word boundaries are not supported");
      case 'B':
        return error("word boundaries are not supported");
      default:
        if (std::isdigit(static_cast<unsigned char>(c)) || c == 'k')
          return error("backreferences are not supported");
        if (std::isalnum(static_cast<unsigned char>(c)))
          return error(std::string("unsupported escape \\") + c);
        out.push_back({uint8_t(c), uint8_t(c)});
        return Status::ok();
    }
  }

  Result<NodePtr> parse_class() {
    ++pos_;  // '['
    bool negate = false;
    if (peek() == '^') negate = true, ++pos_;
    std::vector<CodeRange> ranges;
    bool first = true;
    while (true) {
      if (at_end()) return error("missing ']'");
      if (peek() == ']' && !first) break;
      first = false;
      if (peek() == '[' && pos_ + 1 < p_.size() && p_[pos_ + 1] == ':')
        return error("POSIX classes are not supported");
      std::vector<CodeRange> item;
      if (peek() == '\\') {
        SLUICE_RETURN_IF_ERROR(parse_escape(item, true));
      } else {
        SLUICE_ASSIGN_OR_RETURN(uint32_t cp, read_code_point());
        item.push_back({cp, cp});
      }
      // A range a-b (only between single characters).
      if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        if (item.size() != 1 || item[0].first != item[0].second)
          return error("bad character range");
        ++pos_;
        std::vector<CodeRange> hi;
        if (peek() == '\\') {
          SLUICE_RETURN_IF_ERROR(parse_escape(hi, true));
        } else {
          SLUICE_ASSIGN_OR_RETURN(uint32_t cp, read_code_point());
          hi.push_back({cp, cp});
        }
        if (hi.size() != 1 || hi[0].first != hi[0].second || hi[0].first < item[0].first)
          return error("bad character range");
        item[0].second = hi[0].first;
      }
      ranges.insert(ranges.end(), item.begin(), item.end());
    }
    ++pos_;  // ']'
    if (negate) ranges = complement(ranges);
    if (ranges.empty()) return nothing();
    return utf8_ranges_node(ranges);
  }

  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace

Result<NodePtr> compile_regex(std::string_view pattern) {
  return RegexParser(pattern).parse_top();
}

}  // namespace sluice::structured
