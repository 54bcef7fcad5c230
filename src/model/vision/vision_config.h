#pragma once
// The shape of an image encoder and its projector, read from llama.cpp's multimodal projector
// GGUF ("mmproj", general.architecture "clip"): the clip.* metadata its converter writes.
#include <array>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace sluice {

class GgufFile;

// How the encoder's patch rows become the text model's embeddings (clip.projector_type).
enum class ProjectorType {
  kGemma3,  // "gemma3": avg-pool the patch grid, Gemma RMSNorm, one matmul (no bias)
};

struct VisionConfig {
  ProjectorType projector = ProjectorType::kGemma3;
  int64_t image_size = 0;         // pixels per side of the square input image
  int64_t patch_size = 0;         // pixels per side of one patch (the conv's kernel and stride)
  int64_t hidden_size = 0;        // the encoder's width
  int64_t intermediate_size = 0;  // its MLP's width
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;          // hidden_size / num_heads unless the file says otherwise
  float layer_norm_eps = 1e-6f;  // every LayerNorm, and the projector's RMSNorm
  int64_t projection_dim = 0;    // the text model's hidden size (width of a soft token)
  int64_t pool_kernel = 4;       // Gemma 3: patches per side / tokens per side
  std::array<float, 3> image_mean{}, image_std{};  // per RGB channel, on pixels / 255

  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t num_patches() const { return patches_per_side() * patches_per_side(); }
  int64_t tokens_per_side() const { return patches_per_side() / pool_kernel; }
  // Soft tokens per image: the rows VisionTower::encode writes for one image.
  int64_t tokens_per_image() const { return tokens_per_side() * tokens_per_side(); }
  int64_t q_dim() const { return num_heads * head_dim; }
};

// The projector types llama.cpp names and sluice runs ("gemma3").
const char* projector_type_name(ProjectorType t);

// Reads and validates the clip.* metadata of a vision mmproj. Errors name the file and the key:
// a missing or invalid key, a projector type sluice does not run, no vision encoder.
Result<VisionConfig> read_vision_config(const GgufFile& gguf);

}  // namespace sluice
