#pragma once
// WordPiece (BERT): each word becomes the greedy longest-match-first pieces of the vocabulary,
// pieces after the first written with the continuing-subword prefix ("##"); a word with no such
// split, or longer than max_input_chars_per_word characters, becomes the unknown token.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sluice {

struct WordPieceModel {
  int32_t unk_id = -1;
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;

  // Appends the ids of one pre-tokenized word (valid UTF-8, non-empty).
  void encode_word(const Vocab& vocab, std::string_view word, std::vector<int32_t>* out) const;
};

}  // namespace sluice
