#pragma once
// The parsed form of a Lark grammar (structured layer internal): lark_parser.cc writes it,
// lark_grammar.cc compiles it into nodes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::structured::lark {

struct Expr {
  enum class Kind { kAlt, kSeq, kRepeat, kLiteral, kRange, kRegex, kRef };
  Kind kind = Kind::kSeq;
  std::vector<Expr> children;  // kAlt, kSeq; kRepeat: one
  int32_t min = 0, max = 0;    // kRepeat (max < 0: unbounded)
  std::string text;            // kLiteral bytes, kRegex pattern, kRef name
  std::string flags;           // kLiteral "i"; kRegex flags
  uint32_t lo = 0, hi = 0;     // kRange code points
  int32_t line = 0, col = 0;   // where it was written
};

struct Definition {
  std::string name;
  bool terminal = false;  // NAME (uppercase): a regular language, never recursive
  Expr body;
  int32_t line = 0, col = 0;
};

struct Import {
  std::string name;   // in common.lark
  std::string alias;  // the name it has here
  int32_t line = 0, col = 0;
};

struct GrammarAst {
  std::vector<Definition> definitions;
  std::vector<Import> imports;
  std::vector<Expr> ignores;  // %ignore items
};

// Text -> definitions and directives; errors "[lark] line:col what".
Result<GrammarAst> parse(std::string_view text);

// NAME (uppercase after leading underscores) names a terminal; others name rules.
bool is_terminal_name(const std::string& name);

// "[lark] line:col what"
Status error_at(int32_t line, int32_t col, const std::string& what);

}  // namespace sluice::structured::lark
