#pragma once
// BERT's text steps before WordPiece, as HF `tokenizers` runs them: the BertNormalizer (drop
// control characters, space out CJK ideographs, strip accents, lowercase) and the
// BertPreTokenizer (split at whitespace, each punctuation character a word of its own).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct BertNormalizerOptions {
  bool clean_text = true;            // drop NUL, U+FFFD and Cc/Cf/Co; whitespace -> ' '
  bool handle_chinese_chars = true;  // ' ' around every CJK ideograph
  bool strip_accents = true;         // NFD, then drop nonspacing marks (Mn)
  bool lowercase = true;             // full lowercase mapping, char by char
};

// text must be valid UTF-8.
std::string bert_normalize(std::string_view text, const BertNormalizerOptions& opts);
// Appends the words of (normalized) text: whitespace removed, punctuation isolated.
void bert_pre_tokenize(std::string_view text, std::vector<std::string>* words);

// The character classes HF uses (Rust's char::is_whitespace plus \t \n \r; ASCII punctuation or
// Unicode P*; the CJK Unified Ideograph blocks).
bool bert_is_whitespace(uint32_t cp);
bool bert_is_punctuation(uint32_t cp);
bool bert_is_chinese_char(uint32_t cp);

}  // namespace sluice
