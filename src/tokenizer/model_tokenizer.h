#pragma once
// ModelTokenizer: the one Tokenizer implementation. Loaders (tokenizer.json, GGUF) fill its parts:
//
//   text -> added tokens cut out -> normalizer -> pre-tokenizer -> [byte-level map] -> BPE / SPM
//
// and the decoder settings that turn ids back into bytes.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/spm_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace sluice {

struct DecoderConfig {
  bool byte_level = false;       // normal tokens are byte-level text (GPT-2 alphabet)
  std::string metaspace;         // non-empty: this text ("▁") decodes to " "
  bool byte_tokens = false;      // <0xNN> tokens decode to the byte
  int strip_leading_spaces = 0;  // spaces removed from the start of the first decoded token
};

// The token texts that end generation wherever a vocabulary has them as special tokens.
bool is_end_of_generation_text(std::string_view text);

class ModelTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opts) const override;
  std::string token_bytes(int32_t id, bool skip_special) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override;
  int32_t vocab_size() const override { return vocab.size(); }
  std::optional<int32_t> bos_id() const override { return bos; }
  std::optional<int32_t> eos_id() const override { return eos; }
  std::vector<int32_t> eog_ids() const override { return eog; }
  bool is_special(int32_t id) const override;
  std::optional<int32_t> token_id(std::string_view text) const override { return vocab.find(text); }
  std::string token_text(int32_t id) const override;
  int leading_spaces_to_strip() const override { return decoder.strip_leading_spaces; }
  // Single: prefix_ids A suffix_ids (type ids 0); pairs are not supported.
  Result<Encoding> add_special_tokens(const std::vector<int32_t>& a,
                                      const std::vector<int32_t>* b) const override;
  size_t num_special_tokens(bool pair) const override {
    return pair ? 0 : prefix_ids.size() + suffix_ids.size();
  }

  // Fills eog from eos, extra_ids and the special tokens with an end-of-turn text (llama.cpp's
  // list); <|end|> is left out when <|return|> and <|call|> are there (harmony, as llama.cpp).
  void collect_eog(const std::vector<int32_t>& extra_ids);

  Vocab vocab;
  AddedTokenMatcher added;
  bool has_normalized_added = false;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::unique_ptr<BpeModel> bpe;  // exactly one of bpe / spm
  std::unique_ptr<SpmModel> spm;
  DecoderConfig decoder;
  std::vector<int32_t> prefix_ids, suffix_ids;  // added by add_special
  std::optional<int32_t> bos, eos;
  std::vector<int32_t> eog;

 private:
  void encode_text(std::string_view text, bool first_segment, std::vector<int32_t>* out) const;
};

}  // namespace sluice
