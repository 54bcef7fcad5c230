#pragma once
// Reading an mmproj's tensors by llama.cpp's names with their shapes checked, shared by the
// loaders of every vision family (vision_weights.cc, qwen2vl_weights.cc).
#include <cstdint>
#include <string>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"
#include "model/vision/vision_weights.h"

namespace sluice {

class GgufFile;
struct GgufTensorInfo;

// w as F32 (a copy unless it is F32 already).
Weight to_f32(const Weight& w);

// The transpose of w [rows, cols]: 16-bit floats stay 16-bit (exact), others become F32.
Weight transposed(const Weight& w);

class MmprojTensors {
 public:
  explicit MmprojTensors(const GgufFile& g) : g_(g) {}

  // `[mmproj] PATH: what`.
  Status fail(const std::string& what) const;
  bool has(const std::string& name) const;

  // The tensor, of exactly `shape` (ggml order: innermost first).
  Result<const GgufTensorInfo*> shaped(const std::string& name,
                                       const std::vector<int64_t>& shape) const;
  Result<Weight> import(const GgufTensorInfo& t, int64_t rows, int64_t cols) const;
  // A matrix [rows, cols] (ggml [cols, rows]).
  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const;
  // A vector of n floats as F32 [1, n].
  Result<Weight> vector(const std::string& name, int64_t n) const;
  // A patch convolution [hidden, 3, patch, patch] (ggml [patch, patch, 3, hidden]) as the matrix
  // [hidden, 3 * patch * patch], columns (channel, y, x).
  Result<Weight> patch_conv(const std::string& name, int64_t hidden, int64_t patch) const;

 private:
  const GgufFile& g_;
};

// ggml [hidden, ffn] under the name ffn_down: an old converter's fc1 (llama.cpp swaps them).
bool ffn_names_swapped(const GgufFile& g, const VisionConfig& c);

// Layer `prefix` ("v.blk.N.")'s attention: q, k, v and out projections with their biases.
Status load_layer_attention(const MmprojTensors& r, const std::string& prefix,
                            const VisionConfig& c, VisionLayerWeights& L);
// Its MLP's up and down projections with their biases (names swapped when `swapped`).
Status load_layer_up_down(const MmprojTensors& r, const std::string& prefix, const VisionConfig& c,
                          bool swapped, VisionLayerWeights& L);

}  // namespace sluice
