#pragma once
// Deterministic random-weight BERT directories (`make-model --arch bert`) in Hugging Face's
// layout: a sentence-transformers embedding model (BertModel + mean pooling + Normalize) or a
// cross-encoder (BertForSequenceClassification, one label), with a real WordPiece tokenizer.
#include <cstdint>
#include <string>

#include "common/status.h"

namespace sluice {

struct BertModelOptions {
  std::string preset = "tiny";  // tiny (tests) or minilm-l6 (all-MiniLM-L6-v2's shape)
  bool classifier = false;      // BertForSequenceClassification (rerank) instead of BertModel
  std::string dtype = "F32";    // F32, BF16 or F16 tensors
  uint64_t seed = 0;
  int layers = 0;              // > 0: overrides the preset's layer count
  std::string tokenizer_path;  // a BERT tokenizer.json; its directory's tokenizer files are copied
};

// Writes config.json, model.safetensors, the tokenizer files and, for embeddings, modules.json,
// 1_Pooling/config.json and sentence_bert_config.json into the directory out (created).
Status write_synthetic_bert(const BertModelOptions& o, const std::string& out);

}  // namespace sluice
