#include "jinja/lexer.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "jinja/error.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

// Decodes the code point at s[pos]; *len receives its byte length.
char32_t cp_at(const std::string& s, size_t pos, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (pos + n > s.size()) n = 1;
  std::u32string d = utf8_decode(std::string_view(s).substr(pos, n));
  if (d.size() != 1) {
    *len = 1;
    return 0xDC00 + c;
  }
  *len = n;
  return d[0];
}

size_t skip_ws(const std::string& s, size_t pos) {
  while (pos < s.size()) {
    size_t len;
    char32_t c = cp_at(s, pos, &len);
    if (!py_isspace(c)) break;
    pos += len;
  }
  return pos;
}

// Python's str.rstrip() (Unicode whitespace).
std::string rstrip_ws(const std::string& s) {
  if (is_ascii(s)) {
    size_t end = s.size();
    while (end > 0 && py_isspace(static_cast<unsigned char>(s[end - 1]))) --end;
    return s.substr(0, end);
  }
  std::u32string d = utf8_decode(s);
  size_t end = d.size();
  while (end > 0 && py_isspace(d[end - 1])) --end;
  return utf8_encode(d.substr(0, end));
}

bool all_ws(const std::string& s, size_t from) {
  return from < s.size() && skip_ws(s, from) == s.size();
}

int count_newlines(const std::string& s, size_t from, size_t to) {
  int n = 0;
  for (size_t i = from; i < to; ++i) n += s[i] == '\n';
  return n;
}

bool is_name_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool is_name_char(unsigned char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's unicode-escape decoding of a string literal body.
std::string unescape(const std::string& body, int line) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n':
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        char32_t cp = 0;
        for (int k = 0; k < digits; ++k) {
          if (i + 1 + k >= body.size() || hex_val(body[i + 1 + k]) < 0)
            throw_error("TemplateSyntaxError",
                        std::string("truncated \\") + e + std::string(digits, 'X') + " escape",
                        line);
          cp = cp * 16 + hex_val(body[i + 1 + k]);
        }
        if (cp > 0x10FFFF) throw_error("TemplateSyntaxError", "illegal Unicode character", line);
        i += digits;
        utf8_append(cp, out);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = e - '0';
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k)
            cp = cp * 8 + (body[++i] - '0');
          utf8_append(cp, out);
        } else if (e == 'N') {
          throw_error("TemplateSyntaxError", "\\N{...} escapes are not supported", line);
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

struct OpDef {
  const char* text;
  Tok tok;
};
constexpr OpDef kOps2[] = {{"**", Tok::kPow}, {"//", Tok::kFloorDiv}, {"==", Tok::kEq},
                           {"!=", Tok::kNe},  {">=", Tok::kGe},       {"<=", Tok::kLe}};

Tok single_op(char c) {
  switch (c) {
    case '+':
      return Tok::kAdd;
    case '-':
      return Tok::kSub;
    case '/':
      return Tok::kDiv;
    case '*':
      return Tok::kMul;
    case '%':
      return Tok::kMod;
    case '~':
      return Tok::kTilde;
    case '[':
      return Tok::kLBracket;
    case ']':
      return Tok::kRBracket;
    case '(':
      return Tok::kLParen;
    case ')':
      return Tok::kRParen;
    case '{':
      return Tok::kLBrace;
    case '}':
      return Tok::kRBrace;
    case '>':
      return Tok::kGt;
    case '<':
      return Tok::kLt;
    case '=':
      return Tok::kAssign;
    case '.':
      return Tok::kDot;
    case ':':
      return Tok::kColon;
    case '|':
      return Tok::kPipe;
    case ',':
      return Tok::kComma;
    case ';':
      return Tok::kSemicolon;
    default:
      return Tok::kEof;
  }
}

class Lexer {
 public:
  Lexer(const std::string& src, const LexOptions& opts) : s_(src), opts_(opts) {}

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < s_.size()) {
      size_t p = find_tag(pos);
      if (p == std::string::npos) {
        emit_data(s_.substr(pos), line_);
        line_ += count_newlines(s_, pos, s_.size());
        break;
      }
      char kind = s_[p + 1];  // '{', '%', '#'
      size_t after = p + 2;
      char sign = (after < s_.size() && (s_[after] == '-' || s_[after] == '+')) ? s_[after] : 0;
      size_t raw_end = 0;
      bool raw = kind == '%' && match_raw_begin(p, &raw_end);
      std::string text = s_.substr(pos, p - pos);
      int text_line = line_;
      line_ += count_newlines(s_, pos, p);
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+' && opts_.lstrip_blocks && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting_) && all_ws(text, l_pos)) text.resize(l_pos);
      }
      emit_data(text, text_line);
      line_starting_ = false;
      if (raw) {
        line_ += count_newlines(s_, p, raw_end);
        pos = lex_raw(raw_end);
      } else if (kind == '#') {
        pos = lex_comment(after + (sign ? 1 : 0));
      } else {
        pos = lex_tag(kind == '{', after + (sign ? 1 : 0));
      }
    }
    tokens_.push_back(Token{Tok::kEof, line_, {}});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t pos) const {
    while (true) {
      size_t p = s_.find('{', pos);
      if (p == std::string::npos || p + 1 >= s_.size()) return std::string::npos;
      char c = s_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      pos = p + 1;
    }
  }

  void emit_data(const std::string& text, int line) {
    if (!text.empty()) tokens_.push_back(Token{Tok::kData, line, text});
  }

  // {%[-+]?\s*raw\s*(-%}\s*|%})
  bool match_raw_begin(size_t p, size_t* end) const {
    size_t i = p + 2;
    if (i < s_.size() && (s_[i] == '-' || s_[i] == '+')) ++i;
    i = skip_ws(s_, i);
    if (s_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    if (i < s_.size() && is_name_char(static_cast<unsigned char>(s_[i]))) return false;
    i = skip_ws(s_, i);
    if (s_.compare(i, 3, "-%}") == 0) {
      *end = skip_ws(s_, i + 3);
      return true;
    }
    if (s_.compare(i, 2, "%}") == 0) {
      *end = i + 2;
      return true;
    }
    return false;
  }

  size_t lex_raw(size_t start) {
    size_t search = start;
    while (true) {
      size_t p = s_.find("{%", search);
      if (p == std::string::npos)
        throw_error("TemplateSyntaxError", "Missing end of raw directive", line_);
      size_t i = p + 2;
      char sign = 0;
      if (i < s_.size() && (s_[i] == '-' || s_[i] == '+')) sign = s_[i++];
      i = skip_ws(s_, i);
      if (s_.compare(i, 6, "endraw") != 0) {
        search = p + 1;
        continue;
      }
      i = skip_ws(s_, i + 6);
      size_t end;
      if (s_.compare(i, 3, "+%}") == 0) {
        end = i + 3;
      } else if (s_.compare(i, 3, "-%}") == 0) {
        end = skip_ws(s_, i + 3);
      } else if (s_.compare(i, 2, "%}") == 0) {
        end = i + 2;
        if (opts_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
      } else {
        search = p + 1;
        continue;
      }
      std::string text = s_.substr(start, p - start);
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+' && opts_.lstrip_blocks) {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting_) && all_ws(text, l_pos)) text.resize(l_pos);
      }
      emit_data(text, line_);
      line_ += count_newlines(s_, start, end);
      line_starting_ = end > 0 && s_[end - 1] == '\n';
      return end;
    }
  }

  size_t lex_comment(size_t start) {
    size_t e = s_.find("#}", start);
    if (e == std::string::npos)
      throw_error("TemplateSyntaxError", "Missing end of comment tag", line_);
    size_t end;
    if (e > start && s_[e - 1] == '-') {
      end = skip_ws(s_, e + 2);
    } else if (e > start && s_[e - 1] == '+') {
      end = e + 2;
    } else {
      end = e + 2;
      if (opts_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
    }
    line_ += count_newlines(s_, start, end);
    line_starting_ = s_[end - 1] == '\n';
    return end;
  }

  // Tokens of a {{ ... }} (variable) or {% ... %} (block) tag.
  size_t lex_tag(bool variable, size_t pos) {
    tokens_.push_back(Token{variable ? Tok::kVarBegin : Tok::kBlockBegin, line_, {}});
    std::vector<char> balance;
    const char* close = variable ? "}}" : "%}";
    while (true) {
      if (pos >= s_.size()) return pos;  // the parser reports the unexpected end
      if (balance.empty()) {
        size_t end = 0;
        bool matched = false;
        if (!variable && s_.compare(pos, 3, "+%}") == 0) {
          end = pos + 3;
          matched = true;
        } else if (s_[pos] == '-' && s_.compare(pos + 1, 2, close) == 0) {
          end = skip_ws(s_, pos + 3);
          matched = true;
        } else if (s_.compare(pos, 2, close) == 0) {
          end = pos + 2;
          if (!variable && opts_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
          matched = true;
        }
        if (matched) {
          tokens_.push_back(Token{variable ? Tok::kVarEnd : Tok::kBlockEnd, line_, {}});
          line_ += count_newlines(s_, pos, end);
          line_starting_ = s_[end - 1] == '\n';
          return end;
        }
      }
      unsigned char c = static_cast<unsigned char>(s_[pos]);
      size_t len;
      if (c < 0x80 ? py_isspace(c) : py_isspace(cp_at(s_, pos, &len))) {
        size_t e = skip_ws(s_, pos);
        line_ += count_newlines(s_, pos, e);
        pos = e;
        continue;
      }
      if (is_digit(static_cast<char>(c))) {
        pos = lex_number(pos);
        continue;
      }
      if (is_name_start(c)) {
        size_t e = pos;
        while (e < s_.size() && is_name_char(static_cast<unsigned char>(s_[e]))) ++e;
        tokens_.push_back(Token{Tok::kName, line_, s_.substr(pos, e - pos)});
        pos = e;
        continue;
      }
      if (c == '\'' || c == '"') {
        size_t e = pos + 1;
        while (e < s_.size() && s_[e] != static_cast<char>(c)) e += s_[e] == '\\' ? 2 : 1;
        if (e >= s_.size())
          throw_error("TemplateSyntaxError",
                      std::string("unexpected char '") + static_cast<char>(c) + "' at " +
                          std::to_string(pos),
                      line_);
        tokens_.push_back(
            Token{Tok::kString, line_, unescape(s_.substr(pos + 1, e - pos - 1), line_)});
        line_ += count_newlines(s_, pos, e);
        pos = e + 1;
        continue;
      }
      Tok op = Tok::kEof;
      size_t oplen = 1;
      for (const auto& d : kOps2) {
        if (s_.compare(pos, 2, d.text) == 0) {
          op = d.tok;
          oplen = 2;
          break;
        }
      }
      if (op == Tok::kEof) op = single_op(static_cast<char>(c));
      if (op == Tok::kEof) {
        std::string ch = c < 0x80 ? std::string(1, static_cast<char>(c)) : s_.substr(pos, 1);
        throw_error("TemplateSyntaxError", "unexpected char '" + ch + "' at " + std::to_string(pos),
                    line_);
      }
      if (op == Tok::kLBrace) balance.push_back('}');
      if (op == Tok::kLParen) balance.push_back(')');
      if (op == Tok::kLBracket) balance.push_back(']');
      if (op == Tok::kRBrace || op == Tok::kRParen || op == Tok::kRBracket) {
        if (balance.empty())
          throw_error("TemplateSyntaxError",
                      std::string("unexpected '") + static_cast<char>(c) + "'", line_);
        char expected = balance.back();
        balance.pop_back();
        if (expected != static_cast<char>(c))
          throw_error(
              "TemplateSyntaxError",
              std::string("unexpected '") + static_cast<char>(c) + "', expected '" + expected + "'",
              line_);
      }
      tokens_.push_back(Token{op, line_, {}});
      pos += oplen;
    }
  }

  size_t scan_digits(size_t pos) const {  // (\d+_)*\d+
    size_t e = pos;
    while (true) {
      size_t d = e;
      while (d < s_.size() && is_digit(s_[d])) ++d;
      if (d == e) return e;
      e = d;
      if (e + 1 < s_.size() && s_[e] == '_' && is_digit(s_[e + 1])) {
        ++e;
        continue;
      }
      return e;
    }
  }

  size_t lex_number(size_t pos) {
    bool after_dot = pos > 0 && s_[pos - 1] == '.';
    size_t int_end = scan_digits(pos);
    // float: digits ( (.digits)? e[+-]?digits | .digits )
    if (!after_dot) {
      size_t e = int_end;
      bool has_frac = false;
      if (e + 1 < s_.size() && s_[e] == '.' && is_digit(s_[e + 1])) {
        e = scan_digits(e + 1);
        has_frac = true;
      }
      size_t x = e;
      bool has_exp = false;
      if (x < s_.size() && (s_[x] == 'e' || s_[x] == 'E')) {
        size_t y = x + 1;
        if (y < s_.size() && (s_[y] == '+' || s_[y] == '-')) ++y;
        if (y < s_.size() && is_digit(s_[y])) {
          e = scan_digits(y);
          has_exp = true;
        }
      }
      if (has_frac || has_exp) {
        std::string t;
        for (size_t i = pos; i < e; ++i)
          if (s_[i] != '_') t.push_back(s_[i]);
        tokens_.push_back(Token{Tok::kFloat, line_, t, 0, std::strtod(t.c_str(), nullptr)});
        return e;
      }
    }
    // integer: 0b / 0o / 0x / [1-9](_?\d)* / 0(_?0)*
    if (s_[pos] == '0' && pos + 1 < s_.size()) {
      char p = static_cast<char>(s_[pos + 1] | 0x20);
      int base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 0;
      if (base) {
        size_t e = pos + 2;
        uint64_t v = 0;
        size_t ndig = 0;
        while (e < s_.size()) {
          char c = s_[e];
          if (c == '_' && e + 1 < s_.size() && hex_val(s_[e + 1]) >= 0 &&
              hex_val(s_[e + 1]) < base) {
            ++e;
            continue;
          }
          int h = hex_val(c);
          if (h < 0 || h >= base) break;
          v = v * base + h;
          ++ndig;
          ++e;
        }
        if (ndig > 0) {
          tokens_.push_back(Token{Tok::kInteger, line_, {}, static_cast<int64_t>(v)});
          return e;
        }
      }
    }
    size_t e;
    if (s_[pos] == '0') {
      e = pos + 1;
      while (e < s_.size() &&
             (s_[e] == '0' || (s_[e] == '_' && e + 1 < s_.size() && s_[e + 1] == '0')))
        ++e;
    } else {
      e = int_end;
    }
    std::string t;
    for (size_t i = pos; i < e; ++i)
      if (s_[i] != '_') t.push_back(s_[i]);
    errno = 0;
    long long v = std::strtoll(t.c_str(), nullptr, 10);
    if (errno == ERANGE) throw_error("OverflowError", "integer literal too large", line_);
    tokens_.push_back(Token{Tok::kInteger, line_, {}, v});
    return e;
  }

  const std::string& s_;
  const LexOptions& opts_;
  std::vector<Token> tokens_;
  int line_ = 1;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const LexOptions& opts) {
  // Newlines normalized to "\n"; one trailing newline dropped (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src.push_back(source[i]);
    }
  }
  if (!opts.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(src, opts).run();
}

const char* token_name(Tok t) {
  switch (t) {
    case Tok::kData:
      return "template data";
    case Tok::kVarBegin:
      return "begin of print statement";
    case Tok::kVarEnd:
      return "end of print statement";
    case Tok::kBlockBegin:
      return "begin of statement block";
    case Tok::kBlockEnd:
      return "end of statement block";
    case Tok::kName:
      return "name";
    case Tok::kString:
      return "string";
    case Tok::kInteger:
      return "integer";
    case Tok::kFloat:
      return "float";
    case Tok::kAdd:
      return "+";
    case Tok::kSub:
      return "-";
    case Tok::kDiv:
      return "/";
    case Tok::kFloorDiv:
      return "//";
    case Tok::kMul:
      return "*";
    case Tok::kMod:
      return "%";
    case Tok::kPow:
      return "**";
    case Tok::kTilde:
      return "~";
    case Tok::kLBracket:
      return "[";
    case Tok::kRBracket:
      return "]";
    case Tok::kLParen:
      return "(";
    case Tok::kRParen:
      return ")";
    case Tok::kLBrace:
      return "{";
    case Tok::kRBrace:
      return "}";
    case Tok::kEq:
      return "==";
    case Tok::kNe:
      return "!=";
    case Tok::kGt:
      return ">";
    case Tok::kGe:
      return ">=";
    case Tok::kLt:
      return "<";
    case Tok::kLe:
      return "<=";
    case Tok::kAssign:
      return "=";
    case Tok::kDot:
      return ".";
    case Tok::kColon:
      return ":";
    case Tok::kPipe:
      return "|";
    case Tok::kComma:
      return ",";
    case Tok::kSemicolon:
      return ";";
    case Tok::kEof:
      return "end of template";
  }
  return "?";
}

}  // namespace sluice::jinja
