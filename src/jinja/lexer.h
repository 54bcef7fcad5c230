#pragma once
// Jinja2 lexer with the environment Hugging Face uses: trim_blocks, lstrip_blocks, no trailing
// newline kept, "{%-"/"-%}" and "{%+"/"+%}" whitespace control, {% raw %}, comments.
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::jinja {

enum class Tok : uint8_t {
  kData,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInteger,
  kFloat,
  // operators
  kAdd,
  kSub,
  kDiv,
  kFloorDiv,
  kMul,
  kMod,
  kPow,
  kTilde,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe,
  kAssign,
  kDot,
  kColon,
  kPipe,
  kComma,
  kSemicolon,
  kEof,
};

struct Token {
  Tok type;
  int line;
  std::string text;  // data, name, or decoded string literal
  int64_t ival = 0;
  double fval = 0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws TemplateError("TemplateSyntaxError") on malformed input.
std::vector<Token> tokenize(const std::string& source, const LexOptions& opts = {});
const char* token_name(Tok t);

}  // namespace sluice::jinja
