#pragma once
// An image encoder and its projector (Gemma 3: SigLIP + Gemma3MultiModalProjector) loaded from a
// llama.cpp mmproj GGUF and run on one Backend: preprocessed pixels in, the image's soft tokens
// out (rows of the text model's input embeddings).
//
// For the engine: an image placeholder of tokens_per_image() positions takes encode()'s rows as
// its input embeddings AS THEY ARE. Gemma 3 scales token embeddings by sqrt(hidden); soft tokens
// are not scaled (transformers scatters them after the scaling; llama.cpp scales token ids only).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "common/status.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {

class GgufFile;

class VisionTower {
 public:
  // Reads the mmproj's config and weights and places the weights on `be` (which must outlive the
  // tower). Errors: `[mmproj] PATH: what` (missing keys or tensors, wrong shapes, a projector
  // type sluice does not run).
  static Result<std::unique_ptr<VisionTower>> load(const std::string& mmproj_path, Backend& be);
  ~VisionTower();

  const VisionConfig& config() const { return config_; }
  // Pixels per side of the square image encode() takes.
  int64_t image_size() const { return config_.image_size; }
  // Rows encode() writes per image (Gemma 3: 256).
  int64_t tokens_per_image() const { return config_.tokens_per_image(); }
  // Floats per row (the text model's hidden size).
  int64_t embedding_dim() const { return config_.projection_dim; }

  // pixels: num_images host images [3, image_size, image_size] (RGB planes), each already
  // resized and normalized ((value / 255 - image_mean[c]) / image_std[c]). out: host
  // [num_images * tokens_per_image(), embedding_dim()], row-major over each image's pooled
  // token grid. Calls must not overlap (buffers are reused).
  void encode(const float* pixels, int64_t num_images, float* out);

 private:
  explicit VisionTower(Backend& be);

  Backend& be_;
  std::unique_ptr<GgufFile> file_;  // the mapped file the host weights point into
  VisionConfig config_;
  VisionWeights placed_;
  std::vector<float> patches_host_;
  DeviceArray<float> patches_, x_, h_, q_, k_, v_, attn_, inter_, pooled_, out_;
  DeviceArray<int32_t> query_start_;
};

}  // namespace sluice
