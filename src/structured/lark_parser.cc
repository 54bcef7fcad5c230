// Lark grammar text -> GrammarAst: a line-based lexer (newlines end a definition except inside
// brackets or before a continuing '|') and a recursive-descent parser over its tokens.
#include <cctype>

#include "common/utf8_append.h"
#include "structured/lark_ast.h"

namespace sluice::structured::lark {

bool is_terminal_name(const std::string& name) {
  const size_t first = name.find_first_not_of('_');
  return first != std::string::npos && std::isupper(static_cast<unsigned char>(name[first]));
}

Status error_at(int32_t line, int32_t col, const std::string& what) {
  return Status::error("lark", std::to_string(line) + ":" + std::to_string(col) + " " + what);
}

namespace {

struct Token {
  enum class Kind { kName, kString, kRegex, kNumber, kOp, kDirective, kNewline, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;   // name, decoded string, regex pattern, op, directive name
  std::string flags;  // string / regex flags
  int32_t line = 0, col = 0;
};
using K = Token::Kind;

class Lexer {
 public:
  explicit Lexer(std::string_view t) : t_(t) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    int depth = 0;
    while (true) {
      skip_blanks();
      if (pos_ >= t_.size()) break;
      const char c = t_[pos_];
      Token tok;
      tok.line = line_;
      tok.col = col();
      if (c == '\n') {
        advance();
        if (depth == 0 && !out.empty() && out.back().kind != K::kNewline) {
          tok.kind = K::kNewline;
          out.push_back(tok);
        }
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        tok.kind = K::kName;
        while (pos_ < t_.size() &&
               (std::isalnum(static_cast<unsigned char>(t_[pos_])) || t_[pos_] == '_'))
          tok.text += t_[pos_], advance();
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        tok.kind = K::kNumber;
        tok.text += c, advance();
        while (pos_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[pos_])))
          tok.text += t_[pos_], advance();
      } else if (c == '"') {
        tok.kind = K::kString;
        SLUICE_RETURN_IF_ERROR(read_string(tok));
      } else if (c == '/') {
        tok.kind = K::kRegex;
        SLUICE_RETURN_IF_ERROR(read_regex(tok));
      } else if (c == '%') {
        advance();
        tok.kind = K::kDirective;
        while (pos_ < t_.size() && std::isalpha(static_cast<unsigned char>(t_[pos_])))
          tok.text += t_[pos_], advance();
      } else {
        tok.kind = K::kOp;
        if (t_.substr(pos_, 2) == ".." || t_.substr(pos_, 2) == "->") {
          tok.text = std::string(t_.substr(pos_, 2));
          advance(), advance();
        } else if (std::string_view(":|()[]?*+~.,{}!").find(c) != std::string_view::npos) {
          tok.text = std::string(1, c);
          advance();
          if (c == '(' || c == '[' || c == '{') ++depth;
          if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        } else {
          return error_at(tok.line, tok.col, std::string("unexpected character '") + c + "'");
        }
      }
      out.push_back(std::move(tok));
    }
    Token end;
    end.kind = K::kEnd;
    end.line = line_;
    end.col = col();
    out.push_back(end);
    return out;
  }

 private:
  int32_t col() const { return static_cast<int32_t>(pos_ - line_start_) + 1; }
  void advance() {
    if (t_[pos_] == '\n') ++line_, line_start_ = pos_ + 1;
    ++pos_;
  }
  void skip_blanks() {
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (c == ' ' || c == '\t' || c == '\r') {
        advance();
      } else if (c == '/' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '/') {
        while (pos_ < t_.size() && t_[pos_] != '\n') advance();
      } else if (c == '\\' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '\n') {
        advance(), advance();  // a line continuation
      } else {
        break;
      }
    }
  }

  Status read_hex(int digits, uint32_t& v, const Token& tok) {
    v = 0;
    for (int k = 0; k < digits; ++k) {
      if (pos_ >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[pos_])))
        return error_at(tok.line, tok.col, "bad \\x or \\u escape in a string");
      const char h = static_cast<char>(std::tolower(t_[pos_]));
      v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : h - 'a' + 10);
      advance();
    }
    return Status::ok();
  }

  // "..." with Python's escapes (unknown escapes keep their backslash), then the `i` flag.
  Status read_string(Token& tok) {
    advance();
    while (true) {
      if (pos_ >= t_.size() || t_[pos_] == '\n')
        return error_at(tok.line, tok.col, "unterminated string");
      const char c = t_[pos_];
      if (c == '"') break;
      advance();
      if (c != '\\') {
        tok.text += c;
        continue;
      }
      if (pos_ >= t_.size()) return error_at(tok.line, tok.col, "unterminated string");
      const char e = t_[pos_];
      advance();
      uint32_t v = 0;
      switch (e) {
        case 'n':
          tok.text += '\n';
          break;
        case 't':
          tok.text += '\t';
          break;
        case 'r':
          tok.text += '\r';
          break;
        case 'f':
          tok.text += '\f';
          break;
        case 'v':
          tok.text += '\v';
          break;
        case '0':
          tok.text += '\0';
          break;
        case '\\':
        case '"':
        case '\'':
          tok.text += e;
          break;
        case 'x':
          SLUICE_RETURN_IF_ERROR(read_hex(2, v, tok));
          utf8_append(tok.text, v);
          break;
        case 'u':
          SLUICE_RETURN_IF_ERROR(read_hex(4, v, tok));
          utf8_append(tok.text, v);
          break;
        case 'U':
          SLUICE_RETURN_IF_ERROR(read_hex(8, v, tok));
          if (v > 0x10FFFF) return error_at(tok.line, tok.col, "\\U escape out of range");
          utf8_append(tok.text, v);
          break;
        default:
          tok.text += '\\', tok.text += e;
      }
    }
    advance();  // closing quote
    if (pos_ < t_.size() && t_[pos_] == 'i') tok.flags = "i", advance();
    if (tok.text.empty()) return error_at(tok.line, tok.col, "empty string literal");
    return Status::ok();
  }

  // /.../flags: the pattern as written, but "\/" becomes "/".
  Status read_regex(Token& tok) {
    advance();
    while (true) {
      if (pos_ >= t_.size() || t_[pos_] == '\n')
        return error_at(tok.line, tok.col, "unterminated regular expression");
      const char c = t_[pos_];
      if (c == '/') break;
      advance();
      if (c == '\\' && pos_ < t_.size() && t_[pos_] != '\n') {
        if (t_[pos_] != '/') tok.text += '\\';
        tok.text += t_[pos_];
        advance();
        continue;
      }
      tok.text += c;
    }
    advance();
    while (pos_ < t_.size() && std::isalpha(static_cast<unsigned char>(t_[pos_])))
      tok.flags += t_[pos_], advance();
    if (tok.text.empty()) return error_at(tok.line, tok.col, "empty regular expression");
    return Status::ok();
  }

  std::string_view t_;
  size_t pos_ = 0, line_start_ = 0;
  int32_t line_ = 1;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  Result<GrammarAst> run() {
    GrammarAst ast;
    while (peek().kind != K::kEnd) {
      if (peek().kind == K::kNewline) {
        ++pos_;
        continue;
      }
      if (peek().kind == K::kDirective) {
        SLUICE_RETURN_IF_ERROR(directive(ast));
      } else {
        SLUICE_RETURN_IF_ERROR(definition(ast));
      }
      if (peek().kind != K::kNewline && peek().kind != K::kEnd)
        return unexpected("the end of the line");
    }
    return ast;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  bool is_op(const char* op, size_t ahead = 0) const {
    return peek(ahead).kind == K::kOp && peek(ahead).text == op;
  }
  Status unexpected(const std::string& expected) const {
    const Token& t = peek();
    std::string got = t.kind == K::kNewline  ? "end of line"
                      : t.kind == K::kEnd    ? "end of grammar"
                      : t.kind == K::kString ? "a string"
                      : t.kind == K::kRegex  ? "a regular expression"
                                             : "'" + t.text + "'";
    return error_at(t.line, t.col, "expected " + expected + ", got " + got);
  }

  Status definition(GrammarAst& ast) {
    if (is_op("?") || is_op("!")) ++pos_;
    if (peek().kind != K::kName) return unexpected("a rule or terminal definition");
    Definition d;
    d.name = peek().text;
    d.line = peek().line;
    d.col = peek().col;
    ++pos_;
    d.terminal = is_terminal_name(d.name);
    if (is_op(".")) {  // priority: the lexer's tie-breaker, not part of the language
      ++pos_;
      if (peek().kind != K::kNumber) return unexpected("a priority number");
      ++pos_;
    }
    if (is_op("{")) return error_at(peek().line, peek().col, "templates are not supported");
    if (!is_op(":")) return unexpected("':'");
    ++pos_;
    SLUICE_ASSIGN_OR_RETURN(d.body, expansions());
    ast.definitions.push_back(std::move(d));
    return Status::ok();
  }

  Status directive(GrammarAst& ast) {
    const Token dir = peek();
    ++pos_;
    if (dir.text == "ignore") {
      std::vector<Expr> items;
      if (is_op("(")) {
        ++pos_;
        while (true) {
          SLUICE_ASSIGN_OR_RETURN(Expr e, atom());
          items.push_back(std::move(e));
          if (is_op(",")) {
            ++pos_;
            continue;
          }
          if (!is_op(")")) return unexpected("',' or ')'");
          ++pos_;
          break;
        }
      } else {
        SLUICE_ASSIGN_OR_RETURN(Expr e, atom());
        items.push_back(std::move(e));
      }
      for (Expr& e : items) ast.ignores.push_back(std::move(e));
      return Status::ok();
    }
    if (dir.text != "import")
      return error_at(dir.line, dir.col, "%" + dir.text + " is not supported");
    if (peek().kind != K::kName) return unexpected("a module name");
    const Token module = peek();
    ++pos_;
    if (module.text != "common" || !(is_op(".") || is_op("(")))
      return error_at(module.line, module.col,
                      "unknown import module '" + module.text + "' (only 'common' is built in)");
    auto add = [&](const Token& name, std::string alias) {
      ast.imports.push_back(
          Import{name.text, alias.empty() ? name.text : std::move(alias), name.line, name.col});
    };
    if (is_op(".")) {
      ++pos_;
      if (peek().kind != K::kName) return unexpected("a terminal name");
      const Token name = peek();
      ++pos_;
      std::string alias;
      if (is_op("->")) {
        ++pos_;
        if (peek().kind != K::kName) return unexpected("a name");
        alias = peek().text;
        ++pos_;
      }
      add(name, alias);
      return Status::ok();
    }
    ++pos_;  // '('
    while (true) {
      if (peek().kind != K::kName) return unexpected("a terminal name");
      add(peek(), "");
      ++pos_;
      if (is_op(",")) {
        ++pos_;
        continue;
      }
      if (!is_op(")")) return unexpected("',' or ')'");
      ++pos_;
      return Status::ok();
    }
  }

  // alternatives: seq ('|' seq)*, a newline before '|' continues the definition.
  Result<Expr> expansions() {
    Expr alt;
    alt.kind = Expr::Kind::kAlt;
    alt.line = peek().line;
    alt.col = peek().col;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(Expr s, seq());
      alt.children.push_back(std::move(s));
      if (is_op("->")) {  // alias: a tree name
        ++pos_;
        if (peek().kind != K::kName) return unexpected("an alias name");
        ++pos_;
      }
      if (peek().kind == K::kNewline && is_op("|", 1)) ++pos_;
      if (!is_op("|")) break;
      ++pos_;
    }
    if (alt.children.size() == 1) return std::move(alt.children[0]);
    return alt;
  }

  Result<Expr> seq() {
    Expr s;
    s.kind = Expr::Kind::kSeq;
    s.line = peek().line;
    s.col = peek().col;
    while (true) {
      const Token& t = peek();
      if (t.kind == K::kNewline || t.kind == K::kEnd ||
          (t.kind == K::kOp && (t.text == "|" || t.text == ")" || t.text == "]" || t.text == "->")))
        break;
      SLUICE_ASSIGN_OR_RETURN(Expr a, atom());
      SLUICE_ASSIGN_OR_RETURN(Expr q, postfix(std::move(a)));
      s.children.push_back(std::move(q));
    }
    if (s.children.size() == 1) return std::move(s.children[0]);
    return s;
  }

  static Expr repeat_of(Expr e, int32_t min, int32_t max) {
    Expr r;
    r.kind = Expr::Kind::kRepeat;
    r.line = e.line;
    r.col = e.col;
    r.min = min;
    r.max = max;
    r.children.push_back(std::move(e));
    return r;
  }

  Result<int32_t> number() {
    if (peek().kind != K::kNumber) return unexpected("a number");
    const Token& t = peek();
    if (t.text.size() > 6)
      return error_at(t.line, t.col, "repetition count out of range: " + t.text);
    ++pos_;
    return std::stoi(t.text);
  }

  Result<Expr> postfix(Expr e) {
    while (peek().kind == K::kOp) {
      const std::string& op = peek().text;
      if (op == "?") {
        ++pos_, e = repeat_of(std::move(e), 0, 1);
      } else if (op == "*") {
        ++pos_, e = repeat_of(std::move(e), 0, -1);
      } else if (op == "+") {
        ++pos_, e = repeat_of(std::move(e), 1, -1);
      } else if (op == "~") {
        const Token at = peek();
        ++pos_;
        SLUICE_ASSIGN_OR_RETURN(int32_t lo, number());
        int32_t hi = lo;
        if (is_op("..")) {
          ++pos_;
          SLUICE_ASSIGN_OR_RETURN(hi, number());
        }
        if (hi < lo) return error_at(at.line, at.col, "repetition ~ n..m with m < n");
        e = repeat_of(std::move(e), lo, hi);
      } else {
        break;
      }
    }
    return e;
  }

  Result<Expr> atom() {
    const Token t = peek();
    Expr e;
    e.line = t.line;
    e.col = t.col;
    if (t.kind == K::kOp && (t.text == "(" || t.text == "[")) {
      ++pos_;
      SLUICE_ASSIGN_OR_RETURN(Expr inner, expansions());
      const char* close = t.text == "(" ? ")" : "]";
      if (!is_op(close)) return unexpected(std::string("'") + close + "'");
      ++pos_;
      return t.text == "(" ? inner : repeat_of(std::move(inner), 0, 1);
    }
    if (t.kind == K::kString) {
      ++pos_;
      if (is_op("..")) {  // "a".."z"
        ++pos_;
        if (peek().kind != K::kString) return unexpected("a string after '..'");
        e.kind = Expr::Kind::kRange;
        SLUICE_ASSIGN_OR_RETURN(e.lo, single_char(t));
        SLUICE_ASSIGN_OR_RETURN(e.hi, single_char(peek()));
        ++pos_;
        if (e.hi < e.lo) return error_at(t.line, t.col, "empty character range");
        return e;
      }
      e.kind = Expr::Kind::kLiteral;
      e.text = t.text;
      e.flags = t.flags;
      return e;
    }
    if (t.kind == K::kRegex) {
      ++pos_;
      e.kind = Expr::Kind::kRegex;
      e.text = t.text;
      e.flags = t.flags;
      return e;
    }
    if (t.kind == K::kName) {
      ++pos_;
      if (is_op("{")) return error_at(t.line, t.col, "templates are not supported");
      e.kind = Expr::Kind::kRef;
      e.text = t.text;
      return e;
    }
    return unexpected("a rule, terminal, string, regular expression or '('");
  }

  // The one code point of a range bound.
  Result<uint32_t> single_char(const Token& t) const {
    const std::string& s = t.text;
    const uint8_t b = static_cast<uint8_t>(s[0]);
    const size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (s.size() != n) return error_at(t.line, t.col, "a range bound must be one character");
    uint32_t cp = n == 1 ? b : b & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[k]) & 0x3F);
    return cp;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

Result<GrammarAst> parse(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Token> toks, Lexer(text).run());
  return Parser(std::move(toks)).run();
}

}  // namespace sluice::structured::lark
