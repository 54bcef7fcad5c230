#pragma once
// Vision-language checkpoints whose language model sluice reads (Gemma 3, Qwen2-VL, Qwen2.5-VL,
// Qwen3-VL, Qwen3-VL-MoE): where their config.json keeps the language model's settings, and the
// defaults of transformers' text config classes for the keys a published file leaves out.
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace sluice {

struct VlmFamily {
  std::string model_type;       // config.json "model_type" ("qwen2_5_vl")
  std::string architecture;     // "architectures"[0] ("Qwen2_5_VLForConditionalGeneration")
  std::string text_model_type;  // text_config's "model_type" ("qwen2_5_vl_text")
  // transformers 4.x saved Qwen2/2.5-VL's text settings at the top level (newer files nest them).
  bool flat_text_config = false;
  bool tie_word_embeddings = false;  // the outer config class's default
};

// The family of a VLM config.json by its architecture, else its model_type; nullptr otherwise.
const VlmFamily* find_vlm_family(const std::string& architecture, const std::string& model_type);
// Whether a config.json of no supported architecture describes a multimodal model (a
// vision_config or text_config, or a "...ForConditionalGeneration" architecture).
bool looks_multimodal(const nlohmann::json& config, const std::string& architecture);
// "gemma3, qwen2_vl, ...": the supported VLM model types, for error messages.
std::string supported_vlm_types();

// The language model's settings: text_config (or the top level where there is none) over the
// family's text config defaults, with tie_word_embeddings taken from the outer config first.
nlohmann::json vlm_text_config(const nlohmann::json& config, const VlmFamily& family);
// Qwen3-VL: the tower's DeepStack mergers (vision_config.deepstack_visual_indexes; transformers'
// default of three where it is absent), each adding a slice to an image token's row.
Result<int64_t> vlm_deepstack_layers(const nlohmann::json& config, const std::string& where);

}  // namespace sluice
