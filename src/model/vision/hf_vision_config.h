#pragma once
// The VisionConfig of a Hugging Face or mlx-vlm VLM directory: config.json's vision_config (and
// the family's top-level keys) and the image processor's settings (processor_config.json's
// "image_processor", else preprocessor_config.json, as transformers looks them up). A key the
// files omit takes transformers' default for it (the config and image processor classes'):
//   Gemma 3     SiglipVisionConfig; mm_tokens_per_image (256) -> the pool; text_config.hidden_size
//   Qwen2-VL    Qwen2VLVisionConfig: embed_dim is the width, hidden_size the text model's
//   Qwen2.5-VL  Qwen2_5_VLVisionConfig; fullatt_block_indexes -> every n-th layer global
//   Qwen3-VL    Qwen3VLVisionConfig; num_position_embeddings -> the position grid's side
//   images      Gemma3ImageProcessor / Qwen2VLImageProcessor: mean, std, min/max pixels
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"
#include "model/vision/vision_config.h"

namespace sluice {

// Whether `path` is a directory whose config.json holds a vision_config object (mlx-vlm's
// text-only conversions write null there).
bool has_vision_config(const std::string& path);

// Errors: `[vision] DIR: what`, naming the file and key.
Result<VisionConfig> read_hf_vision_config(const std::string& dir);

// The same from the parsed config.json and image processor settings (`where` names them in
// errors).
Result<VisionConfig> hf_vision_config(const nlohmann::json& config,
                                      const nlohmann::json& image_processor,
                                      const std::string& where);

}  // namespace sluice
