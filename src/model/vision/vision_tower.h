#pragma once
// An image encoder and its projector (Gemma 3: SigLIP + Gemma3MultiModalProjector; Qwen2-VL,
// Qwen2.5-VL and Qwen3-VL: their ViT + patch merger(s)) loaded from a llama.cpp mmproj GGUF or
// from a Hugging Face / mlx-vlm VLM directory, and run on one Backend: preprocessed pixels in, the
// image's soft tokens out (rows of the text model's input embeddings). Gemma 3 takes image_size()
// squares; Qwen any sides that are multiples of patch * merge (28; Qwen3-VL 32), giving (height /
// 28) * (width / 28) tokens.
//
// For the engine: an image placeholder of tokens_per_image() positions takes encode()'s rows as
// its input embeddings AS THEY ARE. Gemma 3 scales token embeddings by sqrt(hidden); soft tokens
// are not scaled (transformers scatters them after the scaling; llama.cpp scales token ids only).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "common/status.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {

struct VisionStepBuffers;
struct Qwen2vlBatch;

class MmprojTensors;

class VisionTower {
 public:
  // Reads the tower's config and weights and places the weights on `be` (which must outlive the
  // tower). `path`: an mmproj GGUF, or a model directory whose config.json has a vision_config
  // (hf_vision_config.h; tensors by hf_vision_names.h). Errors: `[mmproj] PATH: what` or
  // `[vision] DIR: what` (missing keys or tensors, wrong shapes, a family sluice does not run).
  static Result<std::unique_ptr<VisionTower>> load(const std::string& path, Backend& be);
  ~VisionTower();

  const VisionConfig& config() const { return config_; }
  // Pixels per side of the square image encode(pixels, num_images, out) takes.
  int64_t image_size() const { return config_.image_size; }
  // Rows encode() writes per image of image_size() (Gemma 3: 256).
  int64_t tokens_per_image() const { return config_.tokens_per_image(); }
  // Whether encode() takes images of other sizes (VisionConfig::size_error says which).
  bool dynamic_resolution() const { return config_.dynamic_resolution(); }
  // Rows encode() writes for an image of this size.
  int64_t tokens_for(const ImageSize& size) const {
    return config_.tokens_for(size.height, size.width);
  }
  // Qwen2-VL, Qwen2.5-VL and Qwen3-VL towers whose file holds both frames of the patch Conv3d:
  // encode_video takes a video's frames two by two (a temporal patch), as transformers' video
  // processor does.
  bool takes_video() const { return placed_.patch_embed_video.data != nullptr; }
  // Rows encode_video() writes for num_frames frames of this size: one image's per temporal
  // patch of kFramesPerTemporalPatch frames (an odd count's last frame is repeated).
  int64_t tokens_for_video(int64_t num_frames, const ImageSize& size) const {
    return (num_frames + kFramesPerTemporalPatch - 1) / kFramesPerTemporalPatch * tokens_for(size);
  }
  // Floats per row: the text model's hidden size, times 1 + num_deepstack() for Qwen3-VL (the
  // main merger's row, then each DeepStack merger's, as llama.cpp concatenates them).
  int64_t embedding_dim() const { return config_.token_width(); }
  // Qwen3-VL's DeepStack mergers (0 for the others): their rows go to the text model's first
  // num_deepstack() layers.
  int64_t num_deepstack() const { return config_.num_deepstack(); }

  // pixels: num_images host images [3, image_size, image_size] (RGB planes), each already
  // resized and normalized ((value / 255 - image_mean[c]) / image_std[c]). out: host
  // [num_images * tokens_per_image(), embedding_dim()], row-major over each image's pooled
  // token grid. Calls must not overlap (buffers are reused).
  void encode(const float* pixels, int64_t num_images, float* out);
  // pixels: host images one after another, image i [3, sizes[i].height, sizes[i].width]
  // normalized as above, each of a size config().size_error() accepts. out: host
  // [sum of tokens_for(sizes[i]), embedding_dim()], each image's rows in raster order of its
  // token grid.
  void encode(const float* pixels, std::span<const ImageSize> sizes, float* out);
  // takes_video() towers. frames: host [num_frames, 3, size.height, size.width] normalized as
  // above, of a size config().size_error() accepts; num_frames >= 1. out: host
  // [tokens_for_video(num_frames, size), embedding_dim()]: each temporal patch's rows in raster
  // order of its token grid, patches in time order.
  void encode_video(const float* frames, int64_t num_frames, const ImageSize& size, float* out);

 private:
  explicit VisionTower(Backend& be);
  // The encoder layers' buffers for s.n patch rows (both families).
  void reserve_layer_buffers(VisionStepBuffers& s);
  void encode_gemma3(const float* pixels, int64_t num_images, float* out);
  // b: qwen2vl_batch over `sizes` (frame pairs when `video`).
  void encode_qwen2vl(const Qwen2vlBatch& b, std::span<const ImageSize> sizes, bool video,
                      float* out);
  std::vector<float> position_rows(const Qwen2vlBatch& b, std::span<const ImageSize> sizes) const;

  Backend& be_;
  std::unique_ptr<MmprojTensors> tensors_;  // its mapped files, where host weights point
  VisionConfig config_;
  VisionWeights placed_;
  std::vector<float> patches_host_;
  DeviceArray<float> patches_, x_, h_, q_, k_, v_, attn_, inter_, pooled_, out_;
  DeviceArray<float> gate_, merged_;
  DeviceArray<float> pos_embed_;
  DeviceArray<int32_t> query_start_, window_start_, pos_y_, pos_x_, out_rows_;
  Weight position_table_;  // Qwen3-VL: the host's learned [grid^2, hidden] F32 table
};

}  // namespace sluice
