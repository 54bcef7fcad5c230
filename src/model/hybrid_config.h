#pragma once
// The hyper-parameters of hybrid linear-attention models (Qwen3.5, Qwen3-Next): which layers are
// gated delta-net, the delta-net's head shapes and conv kernel, partial RoPE, the attention
// output gate and the shared expert; from config.json or GGUF metadata.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"
#include "model/model_config.h"

namespace sluice {

class GgufFile;

Status hybrid_from_hf(const nlohmann::json& j, ModelConfig& c, const std::string& where);
Status hybrid_from_gguf(const GgufFile& g, ModelConfig& c);

}  // namespace sluice
