#pragma once
// Tokenizer metadata for a GGUF being written (tokenizer.ggml.*, tokenizer.chat_template),
// taken from a Hugging Face tokenizer.json (+ tokenizer_config.json) or copied from a GGUF.
#include <cstdint>
#include <string>

#include "common/status.h"

namespace sluice {

class GgufWriter;

// Token count of the tokenizer at `path`.
Result<int64_t> count_tokenizer_tokens(const std::string& path);
// Adds the metadata; tokens past the tokenizer's own are padded up to vocab_size as unused.
Status add_gguf_tokenizer_metadata(const std::string& path, int64_t vocab_size, GgufWriter& w);

}  // namespace sluice
