#pragma once
// The shape of an image encoder and its projector, read from llama.cpp's multimodal projector
// GGUF ("mmproj", general.architecture "clip"): the clip.* metadata its converter writes.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class GgufFile;

// How the encoder's patch rows become the text model's embeddings (clip.projector_type), which
// also names the encoder: SigLIP for gemma3, Qwen2-VL's ViT for the Qwen mergers.
enum class ProjectorType {
  kGemma3,    // "gemma3": avg-pool the patch grid, Gemma RMSNorm, one matmul (no bias)
  kQwen2VL,   // "qwen2vl_merger": LayerNorm + quick-GELU ViT; 2x2 patches -> norm, MLP (GELU)
  kQwen25VL,  // "qwen2.5vl_merger": RMSNorm + SwiGLU ViT with window attention; the same merger
  kQwen3VL,   // "qwen3vl_merger": LayerNorm + tanh-GELU ViT with learned positions; the same
              // merger plus DeepStack mergers of some layers' outputs (qwen3vl_encoder.h)
};

// Qwen2-VL, Qwen2.5-VL and Qwen3-VL: any image whose sides are multiples of patch * merge.
inline bool is_qwen2vl_family(ProjectorType t) {
  return t == ProjectorType::kQwen2VL || t == ProjectorType::kQwen25VL ||
         t == ProjectorType::kQwen3VL;
}

// Qwen2-VL family: a video's frames per temporal patch (the depth of the patch Conv3d).
inline constexpr int64_t kFramesPerTemporalPatch = 2;

// An image's size in pixels.
struct ImageSize {
  int64_t height = 0, width = 0;
};

struct VisionConfig {
  ProjectorType projector = ProjectorType::kGemma3;
  int64_t image_size = 0;   // pixels per side of the square input image (Qwen: a default size)
  int64_t patch_size = 0;   // pixels per side of one patch (the conv's kernel and stride)
  int64_t hidden_size = 0;  // the encoder's width
  int64_t intermediate_size = 0;  // its MLP's width (Qwen: read from the tensors, see .cc)
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;          // hidden_size / num_heads unless the file says otherwise
  float layer_norm_eps = 1e-6f;  // every LayerNorm, and the projector's RMSNorm
  int64_t projection_dim = 0;    // the text model's hidden size (width of a soft token)
  int64_t pool_kernel = 4;       // Gemma 3: patches per side / tokens per side
  std::array<float, 3> image_mean{}, image_std{};  // per RGB channel, on pixels / 255
  // Qwen2-VL family (dynamic resolution):
  int64_t merge_size = 1;            // patches per side merged into one token (2)
  int64_t window_size = 0;           // Qwen2.5-VL: pixels per side of an attention window (112)
  int64_t full_attention_every = 0;  // n_wa_pattern: layer i is global when (i+1) % n == 0, the
                                     // others attend within windows; 0: every layer is global
  int64_t min_pixels = 0, max_pixels = 0;  // the preprocessor's area limits (llama.cpp's)
  // Qwen2.5-VL: M-RoPE t steps per second of video (an HF directory's
  // vision_config.tokens_per_second; mmproj files carry no such key, and every release says 2).
  double tokens_per_second = 2;
  // Qwen3-VL: the encoder layers whose outputs also go through a DeepStack merger, ascending
  // (clip.vision.is_deepstack_layers); position_grid: the learned position table's side.
  std::vector<int64_t> deepstack_layers;
  int64_t position_grid = 0;

  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t num_patches() const { return patches_per_side() * patches_per_side(); }
  int64_t tokens_per_side() const { return patches_per_side() / pool_kernel; }
  // Soft tokens per image of the default size: the rows VisionTower::encode writes for one.
  int64_t tokens_per_image() const { return tokens_for(image_size, image_size); }
  int64_t q_dim() const { return num_heads * head_dim; }
  // DeepStack mergers (Qwen3-VL; 0 otherwise): each adds projection_dim floats to a token.
  int64_t num_deepstack() const { return static_cast<int64_t>(deepstack_layers.size()); }
  // Floats per encoded token: the main merger's projection_dim, then each DeepStack merger's
  // projection_dim in layer order (llama.cpp's concatenation). The text model's hidden size
  // must be token_width() / (1 + num_deepstack()).
  int64_t token_width() const { return projection_dim * (1 + num_deepstack()); }
  bool dynamic_resolution() const { return is_qwen2vl_family(projector); }
  // Pixels per side of one output token: patch * merge (Qwen: 28), or the fixed image size.
  int64_t size_multiple() const {
    return dynamic_resolution() ? patch_size * merge_size : image_size;
  }
  // Rows encoded for an image of this size (one that accepts() takes).
  int64_t tokens_for(int64_t height, int64_t width) const {
    if (!dynamic_resolution()) return tokens_per_side() * tokens_per_side();
    return (height / size_multiple()) * (width / size_multiple());
  }
  // Empty when the encoder takes an image of this size as it is, else why not: Gemma 3 takes
  // image_size x image_size only; Qwen any sides that are positive multiples of patch * merge.
  std::string size_error(int64_t height, int64_t width) const;
  // Qwen2.5-VL: whether layer i attends within windows (false: over the whole image).
  bool windowed_layer(int64_t i) const {
    return full_attention_every > 0 && (i + 1) % full_attention_every != 0;
  }
};

// The projector types llama.cpp names and sluice runs ("gemma3", "qwen2vl_merger",
// "qwen2.5vl_merger", "qwen3vl_merger").
const char* projector_type_name(ProjectorType t);

// Reads and validates the clip.* metadata of a vision mmproj. Errors name the file and the key:
// a missing or invalid key, a projector type sluice does not run, no vision encoder.
Result<VisionConfig> read_vision_config(const GgufFile& gguf);

}  // namespace sluice
