#pragma once
// How a decoder serves embeddings (Qwen3-Embedding style): the final-norm hidden state of the
// last token, from the sentence-transformers files beside its config.json: modules.json
// (Transformer, Pooling with pooling_mode_lasttoken, Normalize). `dimensions` (Matryoshka) is
// allowed as vLLM allows it: config.json's "is_matryoshka": true (any size up to hidden) or
// "matryoshka_dimensions": [...] (those sizes only).
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

struct DecoderPooling {
  bool declared = false;    // the files ask for last-token pooling (--task auto: embed)
  bool normalize = true;    // L2 (the Normalize module; without modules.json, as vLLM's default)
  bool matryoshka = false;  // the `dimensions` request field is allowed
  std::vector<int64_t> matryoshka_dimensions;  // empty: any size in [1, hidden]

  // "" when `dimensions` may be asked of a model of this hidden size, else why not.
  std::string check_dimensions(int64_t dimensions, int64_t hidden) const;
};

// A model directory's pooling files (a directory without them: the defaults); a .gguf file's
// `<arch>.pooling_type` (llama.cpp's LAST, 3, as its Qwen3-Embedding conversions write it).
// Errors: unreadable JSON, a module other than Transformer / Pooling / Normalize, or a Pooling
// module that is not last-token pooling.
Result<DecoderPooling> read_decoder_pooling(const std::string& model_path);

}  // namespace sluice
