#pragma once
// make-model shapes and tensors of the hybrid linear-attention architectures (qwen35,
// qwen35moe, qwen3next): three gated delta-net layers to one gated full-attention layer.
#include <string>
#include <vector>

#include "common/status.h"
#include "convert/synthetic_model.h"

namespace sluice {

// Presets: tiny (tests), and the real shapes (qwen3.5-0.8b, qwen3.5-9b for qwen35;
// qwen3.5-35b-a3b, qwen3-next-80b-a3b for the MoE ones).
Result<ModelConfig> hybrid_preset(ModelConfig c, const std::string& preset,
                                  int64_t tokenizer_vocab);
// Layer i's tensors in canonical names (the delta-net's or the gated attention's, the norms, the
// MLP or experts with the shared expert).
void hybrid_layer_specs(const ModelConfig& c, int64_t i, std::vector<TensorSpec>& out);

}  // namespace sluice
