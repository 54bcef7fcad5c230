#pragma once
// Score-based SentencePiece BPE (GGUF tokenizer.ggml.model = "llama", llama.cpp's SPM): adjacent
// pieces merge when the merged text is a token, highest score first (ties: leftmost); leftover
// characters that are not tokens become <0xNN> byte tokens (or unk).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sluice {

class SpmModel {
 public:
  SpmModel(const Vocab& vocab, std::vector<float> scores, std::optional<int32_t> unk_id);
  // text is already escaped ("▁" for spaces).
  void encode(std::string_view text, std::vector<int32_t>* out) const;

 private:
  const Vocab& vocab_;
  std::vector<float> scores_;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];
};

}  // namespace sluice
