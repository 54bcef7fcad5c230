#pragma once
// The tensors of make-model's vision towers before any file format: each by its mmproj name
// with its values, so that the mmproj GGUF (synthetic_vision.cc) and the Hugging Face / MLX
// directory (hf_vision_writer.cc) hold the same weights.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/vision/vision_config.h"

namespace sluice {

struct SyntheticVisionTensor {
  std::string name;            // llama.cpp's ("v.blk.0.attn_q.weight")
  GgufType type;               // what the mmproj stores it as
  std::vector<int64_t> shape;  // ggml order
  std::vector<float> values;   // [rows, cols] row-major, before rounding to `type`
  int64_t rows = 0, cols = 0;
};
using SyntheticVisionSink = std::function<void(SyntheticVisionTensor)>;

// Every tensor of the tower `c` in the mmproj's order, with the mmproj writer's types for
// `matrix_type` (F32, F16 or Q8_0) and its values for `seed`.
void synthetic_vision_tensors(const VisionConfig& c, GgufType matrix_type, uint64_t seed,
                              const SyntheticVisionSink& sink);

}  // namespace sluice
