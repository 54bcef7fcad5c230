#pragma once
// WordPieceTokenizer: BERT-family tokenizers (tokenizer.json with model type WordPiece, or a bare
// vocab.txt):
//
//   text -> added tokens cut out -> BertNormalizer -> BertPreTokenizer -> WordPiece
//        -> [CLS] A [SEP] (B [SEP]) with add_special / add_special_tokens
//
// Decoding follows HF's WordPiece decoder: "##" pieces join the previous token, others get a
// space, and with cleanup " ." " ," " ?" " !" ... lose their space.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bert_basic_tokenizer.h"
#include "tokenizer/special_tokens_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece_model.h"

namespace sluice {

struct WordPieceDecoder {
  bool present = true;        // false: no decoder, tokens are joined with " " (as HF)
  std::string prefix = "##";  // a token starting with it continues the previous one
  bool cleanup = true;        // BERT's clean_up_tokenization on each token
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opts) const override;
  // As decode() would write the token at a position > 0 (a space before it unless it continues a
  // word); the streaming detokenizer strips that space from the first token.
  std::string token_bytes(int32_t id, bool skip_special) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override;
  int32_t vocab_size() const override { return vocab.size(); }
  std::optional<int32_t> bos_id() const override { return std::nullopt; }
  std::optional<int32_t> eos_id() const override { return std::nullopt; }
  std::vector<int32_t> eog_ids() const override { return {}; }
  bool is_special(int32_t id) const override;
  std::optional<int32_t> token_id(std::string_view text) const override { return vocab.find(text); }
  std::string token_text(int32_t id) const override;
  int leading_spaces_to_strip() const override { return 1; }
  Result<Encoding> add_special_tokens(const std::vector<int32_t>& a,
                                      const std::vector<int32_t>* b) const override;
  size_t num_special_tokens(bool pair) const override {
    return post_processor.num_special_tokens(pair);
  }

  Vocab vocab;
  AddedTokenMatcher added;
  bool has_normalized_added = false;
  std::optional<BertNormalizerOptions> normalizer;  // none: the text is used as it is
  WordPieceModel model;
  SpecialTokensTemplate post_processor;
  WordPieceDecoder decoder;

 private:
  void encode_text(std::string_view text, std::vector<int32_t>* out) const;
  // One decoded token at position `index` of the kept tokens.
  std::string decode_token(const std::string& text, size_t index) const;
};

// From tokenizer.json's parts: root without model.vocab, which the loader parsed into `vocab`
// ((text, id) pairs; id -1: not an integer). Errors say "[tokenizer.json] ...".
Result<std::unique_ptr<Tokenizer>> build_wordpiece_tokenizer(
    const nlohmann::json& root, std::vector<std::pair<std::string, int64_t>> vocab);

}  // namespace sluice
