#pragma once
// The language model of a vision-language directory, laid out as transformers publishes each
// family (Gemma 3: "language_model.model.*", text_config; Qwen2.5-VL: "model.*", the text
// settings at the top level; Qwen3-VL and Qwen3-VL-MoE: "model.language_model.*", text_config)
// or as mlx-vlm 0.7 converts them ("language_model.model.*", "language_model.lm_head.*").
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "model/model_config.h"

namespace sluice {

struct VlmFamily;

// The VLM family whose language model `arch` is (gemma3, qwen2vl -> Qwen2.5-VL, qwen3vl,
// qwen3vlmoe); nullptr for other architectures.
const VlmFamily* vlm_family_of(const ArchSpec& arch);

// The file's name of a canonical text tensor name ("model.layers.0.mlp.up_proj.weight",
// "lm_head.scales") in the family's layout.
std::string vlm_tensor_name(const VlmFamily& f, bool mlx, const std::string& canonical);

struct VlmConfigOptions {
  std::string tokenizer_path;  // tokenizer.json: the multimodal token ids come from it
  std::string torch_dtype = "bfloat16";
  int64_t mm_tokens_per_image = 0;  // Gemma 3: soft tokens per image (the tower's); 0: none
  nlohmann::json quantization;      // MLX: {"group_size", "bits", "mode"}; null: none
};

// config.json of the VLM: `text` (a text checkpoint's config.json, as hf_config_json writes it)
// nested in text_config or spread at the top level, the architecture, and the family's multimodal
// token ids where the tokenizer has those tokens (transformers' defaults apply to the others).
// vision_config is left to the tower's writer.
Result<nlohmann::json> hf_vlm_config_json(const ModelConfig& c, const VlmFamily& f,
                                          nlohmann::json text, const VlmConfigOptions& o);

}  // namespace sluice
