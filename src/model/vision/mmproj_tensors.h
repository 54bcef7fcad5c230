#pragma once
// A vision tower's tensors by llama.cpp's mmproj names (v.*, mm.*) with their shapes checked,
// whatever file holds them: an mmproj GGUF (gguf_mmproj_tensors.h) or a Hugging Face / mlx-vlm
// model directory (hf_mmproj_tensors.h), which maps each name to its checkpoint tensor. The
// loaders of every vision family (vision_weights.cc, qwen2vl_weights.cc, qwen3vl_weights.cc)
// read through this interface only.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"
#include "model/vision/vision_weights.h"

namespace sluice {

// w as F32 (a copy unless it is F32 already).
Weight to_f32(const Weight& w);

// The transpose of w [rows, cols]: 16-bit floats stay 16-bit (exact), others become F32.
Weight transposed(const Weight& w);

class MmprojTensors {
 public:
  virtual ~MmprojTensors() = default;

  // `[mmproj] PATH: what` or `[vision] DIR: what`.
  virtual Status fail(const std::string& what) const = 0;
  virtual bool has(const std::string& name) const = 0;
  // The tensor's shape as the mmproj holds it (ggml order: innermost first); empty if missing.
  virtual std::vector<int64_t> ggml_shape(const std::string& name) const = 0;
  // A matrix [rows, cols] (ggml [cols, rows]).
  virtual Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const = 0;
  // A vector of n floats as F32 [1, n].
  virtual Result<Weight> vector(const std::string& name, int64_t n) const = 0;
  // A patch convolution [hidden, 3, patch, patch] (ggml [patch, patch, 3, hidden]) as the matrix
  // [hidden, 3 * patch * patch], columns (channel, y, x).
  virtual Result<Weight> patch_conv(const std::string& name, int64_t hidden,
                                    int64_t patch) const = 0;
};

// ggml [hidden, ffn] under the name ffn_down: an old converter's fc1 (llama.cpp swaps them).
bool ffn_names_swapped(const MmprojTensors& r, const VisionConfig& c);

// Layer `prefix` ("v.blk.N.")'s attention: q, k, v and out projections with their biases.
Status load_layer_attention(const MmprojTensors& r, const std::string& prefix,
                            const VisionConfig& c, VisionLayerWeights& L);
// Its MLP's up and down projections with their biases (names swapped when `swapped`).
Status load_layer_up_down(const MmprojTensors& r, const std::string& prefix, const VisionConfig& c,
                          bool swapped, VisionLayerWeights& L);

}  // namespace sluice
