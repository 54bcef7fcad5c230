#pragma once
// The post-processor of encoder tokenizers: special tokens around one sequence or a pair, with a
// token type id for every token (HF TemplateProcessing and BertProcessing):
//
//   single: [CLS] A [SEP]            type ids 0 ... 0
//   pair:   [CLS] A [SEP] B [SEP]    type ids 0 ... 0 1 ... 1
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "common/status.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace sluice {

class SpecialTokensTemplate {
 public:
  // tokenizer.json's "post_processor": null (no special tokens), TemplateProcessing or
  // BertProcessing; other types are an error.
  static Result<SpecialTokensTemplate> from_json(const nlohmann::json& j, const Vocab& vocab);
  // BERT's: [CLS] $A [SEP] and [CLS] $A [SEP] $B:1 [SEP]:1.
  static SpecialTokensTemplate bert(int32_t cls_id, int32_t sep_id);

  bool has_pair() const { return has_pair_; }
  size_t num_special_tokens(bool pair) const;
  // b == nullptr: the single template. With b, has_pair() must be true.
  Encoding apply(const std::vector<int32_t>& a, const std::vector<int32_t>* b) const;

 private:
  struct Piece {
    int sequence = -1;  // 0: A, 1: B, -1: special token ids
    std::vector<int32_t> ids;
    int32_t type_id = 0;
  };
  static Result<std::vector<Piece>> parse_pieces(const nlohmann::json& items,
                                                 const nlohmann::json& specials,
                                                 const Vocab& vocab);
  std::vector<Piece> single_, pair_;
  bool has_pair_ = false;
};

}  // namespace sluice
