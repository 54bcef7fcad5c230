#pragma once
// Writing hybrid linear-attention models (qwen35, qwen35moe, qwen3next) as llama.cpp lays them
// out: the delta-net's metadata, A stored as -exp(A_log), Qwen3.5's value heads reordered to tile
// the key heads, and Qwen3-Next's b and a rows fused per key head (ssm_ba).
#include <vector>

#include "convert/synthetic_model.h"
#include "formats/gguf.h"

namespace sluice {

void add_hybrid_gguf_metadata(const ModelConfig& c, GgufWriter& w);
// The tensor's values as the GGUF file holds them (v: canonical values, [t.rows, t.cols]).
std::vector<float> hybrid_gguf_values(const ModelConfig& c, const TensorSpec& t,
                                      std::vector<float> v);
// Qwen3-Next: in_proj_b [Hv, H] and in_proj_a [Hv, H] as in_proj_ba [2 Hv, H] (per key head g,
// its value heads' b rows, then their a rows).
std::vector<float> fuse_ba(const ModelConfig& c, const std::vector<float>& b,
                           const std::vector<float>& a);

}  // namespace sluice
