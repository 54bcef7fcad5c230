#pragma once
// Inputs of encoder models (embeddings, cross-encoder rerank): encode one text or a pair, truncate
// it to the model's length the way HF `tokenizers` does (longest_first), add the special tokens.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

// HF's longest_first: shortens a and b (b may be null: a alone keeps its first max_total ids)
// so that together they hold at most max_total ids, taking from the longer one first; when both
// must shrink, a keeps max_total / 2 and b the rest (the longer keeps the odd one).
void truncate_longest_first(std::vector<int32_t>* a, std::vector<int32_t>* b, size_t max_total);

struct EncoderInputOptions {
  size_t max_length = 0;      // 0: no limit; else the length with special tokens included
  bool parse_special = true;  // special-token text in the input is that token (HF's default)
};

// text_b == nullptr: a single sequence. Errors: a pair for a tokenizer without a pair template, or
// a max_length that cannot even hold the special tokens.
Result<Encoding> encode_for_encoder(const Tokenizer& tok, std::string_view text_a,
                                    const std::string_view* text_b,
                                    const EncoderInputOptions& opts);

}  // namespace sluice
