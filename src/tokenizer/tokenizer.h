#pragma once
// Tokenizer: Hugging Face tokenizer.json (byte-level BPE; BPE with byte fallback; WordPiece),
// BERT's vocab.txt, and tokenizers stored in GGUF metadata (tokenizer.ggml.*: "gpt2" BPE and
// "llama" SentencePiece-style).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

class GgufFile;

struct EncodeOptions {
  bool add_special = false;    // add BOS/EOS as the tokenizer's post-processor/metadata says
  bool parse_special = false;  // recognize special/added-token text as those tokens
};

// Token ids with the token type (segment) id of each, as BERT-style encoders take them.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opts) const = 0;
  // Raw bytes of one token as it contributes to decoded text (byte-level decoded, "▁" -> " ",
  // <0xNN> -> byte). skip_special: special/control tokens yield "".
  virtual std::string token_bytes(int32_t id, bool skip_special) const = 0;
  // Decodes a whole sequence (applies the decoder's leading-space stripping rules where the
  // tokenizer has them, e.g. SentencePiece's first "▁").
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special) const = 0;

  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  // Every id that ends generation (eos, eot, <|im_end|>, <|eot_id|>, ... as the files declare).
  virtual std::vector<int32_t> eog_ids() const = 0;
  virtual bool is_special(int32_t id) const = 0;
  virtual std::optional<int32_t> token_id(std::string_view token_text) const = 0;
  virtual std::string token_text(int32_t id) const = 0;  // the vocabulary string
  // Spaces the decoder strips from the start of the first decoded token (SentencePiece-style
  // "▁Hello" -> "Hello"); 0 for byte-level tokenizers.
  virtual int leading_spaces_to_strip() const { return 0; }

  // The post-processor's special tokens around sequences encoded without them (add_special =
  // false): one sequence (b == nullptr) or a pair (BERT: [CLS] A [SEP] B [SEP], type ids 0 / 1).
  // A pair is an error for tokenizers without a pair template.
  virtual Result<Encoding> add_special_tokens(const std::vector<int32_t>& a,
                                              const std::vector<int32_t>* b) const = 0;
  // How many tokens add_special_tokens adds to one sequence (pair = false) or to a pair.
  virtual size_t num_special_tokens(bool pair) const = 0;
};

// tokenizer.json (+ tokenizer_config.json beside it, if present, for bos/eos/add_bos).
Result<std::unique_ptr<Tokenizer>> load_tokenizer_json(const std::string& path);
// From GGUF metadata (tokenizer.ggml.model, tokens, scores, token_type, merges, pre, special ids).
Result<std::unique_ptr<Tokenizer>> load_tokenizer_gguf(const GgufFile& gguf);
// BERT's vocab.txt (one token per line, id = line number) with BertTokenizerFast's defaults;
// tokenizer_config.json beside it may set do_lower_case, tokenize_chinese_chars, strip_accents.
Result<std::unique_ptr<Tokenizer>> load_tokenizer_vocab_txt(const std::string& path);
// By path: a .gguf file (its metadata), a directory (its tokenizer.json, else its single *.gguf,
// else its vocab.txt), a tokenizer.json or a vocab.txt file.
Result<std::unique_ptr<Tokenizer>> load_tokenizer_for(const std::string& path);

// Streaming detokenizer: feed token ids one at a time, get back only complete UTF-8 text.
// Bytes of an incomplete character are held until the character completes (or flush()).
// The concatenated output equals decode(ids, skip_special) (first-token space stripping included).
class StreamingDetokenizer {
 public:
  StreamingDetokenizer(const Tokenizer& tok, bool skip_special = true);
  std::string push(int32_t id);
  std::string flush();  // remaining bytes (invalid sequences become U+FFFD)

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace sluice
