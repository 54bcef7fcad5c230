#pragma once
// Where each tensor of a vision tower, by llama.cpp's mmproj name (mmproj_tensors.h), lives in
// a Hugging Face checkpoint of the same tower (transformers' module names: modeling_siglip.py
// and modeling_gemma3.py, modeling_qwen2_vl.py, modeling_qwen2_5_vl.py, modeling_qwen3_vl.py)
// and how the two layouts differ. mlx-vlm keeps the names under its own prefixes and stores the
// patch convolutions channels-last. One table serves the reader (hf_mmproj_tensors.h) and the
// writer (convert/synthetic_vision.h).
#include <cstdint>
#include <string>
#include <vector>

#include "model/vision/vision_config.h"

namespace sluice {

enum class HfLayout {
  kSame,         // the same values in the same order: matrices [rows, cols], vectors [n]
  kRows,         // rows [first, first + count) of the checkpoint's matrix, or that slice of its
                 // vector: q, k and v of Qwen2-VL's and Qwen2.5-VL's fused attn.qkv
  kPlusOne,      // mmproj = checkpoint + 1: Gemma RMSNorm's weight (llama.cpp stores 1 + w)
  kConv2d,       // [hidden, 3, P, P]; MLX [hidden, P, P, 3]
  kConv3dFrame,  // frame `first` of the Conv3d [hidden, 3, 2, P, P]; MLX [hidden, 2, P, P, 3]
};

// Gemma 3's projector sits beside its tower (multi_modal_projector.*); Qwen's merger inside it.
enum class HfPart { kTower, kProjector };

struct HfVisionTensor {
  std::string mmproj;  // "v.blk.0.attn_q.weight"
  HfPart part = HfPart::kTower;
  std::string name;            // under the part's prefix: "blocks.0.attn.qkv.weight"
  std::vector<int64_t> shape;  // the checkpoint tensor's shape in transformers' layout
  HfLayout layout = HfLayout::kSame;
  int64_t first = 0, count = 0;  // kRows: the rows taken; kConv3dFrame: first is the frame
};

// Every tensor of the tower `c` describes (Gemma 3, Qwen2-VL, Qwen2.5-VL or Qwen3-VL).
std::vector<HfVisionTensor> hf_vision_tensors(const VisionConfig& c);

// The prefixes a part may have in a checkpoint, in the order they are tried: transformers'
// published names (vision_tower.vision_model., multi_modal_projector., visual.), a
// transformers-v5 save's (model.vision_tower.vision_model., model.multi_modal_projector.,
// model.visual.) and mlx-vlm's (vision_tower. for Qwen).
std::vector<std::string> hf_part_prefixes(ProjectorType t, HfPart part);
// The prefix make-model writes: as the family's published checkpoints (Qwen3-VL: model.visual.),
// or as mlx-vlm's convert saves them.
std::string hf_write_prefix(ProjectorType t, HfPart part, bool mlx);

// A convolution's shape channels-last, as MLX stores it: [out, 3, ...kernel] -> [out, ...kernel,
// 3] ([out, 3, 2, P, P] -> [out, 2, P, P, 3]).
std::vector<int64_t> mlx_conv_shape(const std::vector<int64_t>& hf_shape);
// Index of element (h, channel c, frame t, y, x) in a conv tensor of transformers' layout
// `hf_shape` ([H, 3, P, P] or [H, 3, 2, P, P]; t ignored for 2D), stored as HF or as MLX.
int64_t conv_index(const std::vector<int64_t>& hf_shape, bool mlx, int64_t h, int64_t c, int64_t t,
                   int64_t y, int64_t x);

}  // namespace sluice
