#pragma once
// A GGUF vocabulary (tokenizer.ggml.*) as Hugging Face tokenizer files, for byte-level BPE
// ("gpt2") vocabularies: tokenizer.json encodes every text to the same ids as the GGUF tokenizer
// (tokenizer.ggml.pre's regexes become Split pre-tokenizers, control and user-defined tokens
// become added tokens); tokenizer_config.json carries bos/eos and the chat template.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/status.h"

namespace sluice {

class GgufFile;

struct HfTokenizerFiles {
  nlohmann::json tokenizer;         // tokenizer.json
  nlohmann::json tokenizer_config;  // tokenizer_config.json
  int64_t bos_id = -1;
  std::vector<int64_t> eos_ids;  // eos first, then eot / eom when set
};

// "[convert] ..." errors: SentencePiece ("llama") vocabularies, duplicate tokens, bad merges.
Result<HfTokenizerFiles> hf_tokenizer_from_gguf(const GgufFile& g);

}  // namespace sluice
