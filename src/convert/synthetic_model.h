#pragma once
// Deterministic random-weight models of any supported architecture and shape (`make-model`).
// Weights are scaled so activations stay O(1) and the logits are far from flat.
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/model_config.h"

namespace sluice {

// One tensor of a model in canonical (Hugging Face) naming.
struct TensorSpec {
  // kConv: a depthwise conv kernel [channels, kernel]; kDecay: a delta-net's A_log (GGUF stores
  // -exp of it).
  enum class Kind { kEmbedding, kMatrix, kNorm, kBias, kSink, kConv, kDecay };
  std::string name;
  Kind kind;
  int64_t rows = 1;  // matrices and expert biases: [rows, cols]; vectors: rows = 1
  int64_t cols = 0;
  int64_t experts = 0;  // > 0: that many [rows / experts, cols] expert matrices, stacked
};

// Shapes of the presets: tiny (tests), qwen3-0.6b, llama3-8b; for MoE architectures tiny,
// moe-small (a CPU benchmark shape) and qwen3-30b-a3b. vocab_size is at least the
// tokenizer's size (presets round up to their real vocabulary).
Result<ModelConfig> preset_config(const std::string& preset, const std::string& arch,
                                  int64_t tokenizer_vocab_size);
std::vector<TensorSpec> model_tensor_specs(const ModelConfig& c);
// The tensor's values [rows * cols], a pure function of (seed, name).
std::vector<float> synthetic_tensor(const TensorSpec& t, const ModelConfig& c, uint64_t seed);

}  // namespace sluice
