#pragma once
// Deterministic random-weight vision towers for VLMs (`make-model --vision`): an mmproj GGUF with
// exactly the names, metadata and tensor types llama.cpp's converter writes (conversion/gemma.py
// Gemma3VisionModel; conversion/qwenvl.py Qwen2VLVisionModel; conversion/qwen3vl.py
// Qwen3VLVisionModel), beside the text model's GGUF.
#include <cstdint>
#include <string>

#include "common/status.h"
#include "formats/gguf.h"
#include "model/vision/vision_config.h"

namespace sluice {

// Gemma 3: tiny (tests: 224 px, 16x16 patches of 14, width 96, 2 layers, 16 tokens) or
// gemma3-4b (SigLIP-so400m as in Gemma 3 4B/12B/27B: 896 px, width 1152, 27 layers, 256 tokens).
// Qwen2.5-VL: qwen25vl-tiny (width 96, 4 heads, MLP 200, 4 layers, every 2nd global) or
// qwen25vl-7b (the tower of every Qwen2.5-VL size: width 1280, 16 heads, MLP 3420, 32 layers,
// every 8th global); any image of sides multiple of 28, (h/28) * (w/28) tokens.
// Qwen3-VL: qwen3vl-tiny (width 96, 4 heads, MLP 200, 4 layers, DeepStack after layers 0 and 2,
// positions on a 6 x 6 grid), qwen3vl-4b (Qwen3-VL-2B/4B: width 1024, 16 heads, MLP 4096, 24
// layers, DeepStack [5, 11, 17]) or qwen3vl-8b (8B and up: width 1152, 16 heads, MLP 4304, 27
// layers, DeepStack [8, 16, 24]); patch 16, sides multiple of 32, (h/32) * (w/32) tokens.
// projection_dim: the text model's hidden size (Qwen2.5-VL 7B: 3584).
Result<VisionConfig> vision_preset(const std::string& preset, int64_t projection_dim);

struct MmprojWriteOptions {
  // The converter's --outtype: the encoder's matrices in F32, F16 or Q8_0 (rows whose width is
  // not a multiple of 32 fall back to F16). Vectors stay F32, as do Gemma 3's patch and
  // position embeddings; its input projection is F16. Qwen's patch convolutions are F16 in F16
  // files and F32 otherwise; its merger's matrices follow the output type.
  GgufType matrix_type = GgufType::F16;
  uint64_t seed = 0;
  std::string name = "sluice-synthetic-mmproj";
};

Status write_synthetic_mmproj(const VisionConfig& c, const MmprojWriteOptions& o,
                              const std::string& out);

struct HfVisionWriteOptions {
  bool mlx = false;                  // mlx-vlm's names and channels-last convolutions
  uint64_t seed = 0;                 // write_synthetic_mmproj's seed for the same values
  std::string float_dtype = "BF16";  // every tensor's: F32, F16 or BF16
};
// Writes the tower of `c` into the VLM directory `dir` (config.json already there): its tensors
// under transformers' names (or mlx-vlm's when mlx), with the values
// write_synthetic_mmproj writes for the same config and seed; `vision_config` (and the family's
// top-level vision keys: Gemma 3's mm_tokens_per_image; model_type and architectures, and
// Gemma 3's text_config.hidden_size, where config.json has none) merged into dir/config.json
// (whose text width, if any, must be the tower's projection_dim); and preprocessor_config.json.
// Beside the text model's model.safetensors, that file becomes shard 1 of 2 and the tower shard 2,
// with model.safetensors.index.json (transformers reads a lone model.safetensors only; mlx-vlm
// reads model*.safetensors): call it after the text weights are written. Beside an index, the
// tower is model-vision.safetensors, added to it; alone, model.safetensors. Gemma 3, Qwen2.5-VL
// and Qwen3-VL towers.
Status write_hf_vision_tower(const VisionConfig& c, const HfVisionWriteOptions& o,
                             const std::string& dir);

}  // namespace sluice
