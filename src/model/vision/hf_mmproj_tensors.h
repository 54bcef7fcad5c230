#pragma once
// MmprojTensors over a Hugging Face or mlx-vlm model directory: each mmproj name is mapped to
// its checkpoint tensor (hf_vision_names.h) and brought to the mmproj's layout. Float tensors
// (F32, F16, BF16) map without copying where the layouts agree; convolutions are rearranged
// into F32; MLX-quantized matrices (weight U32 + scales + biases) are repacked
// (model/load/quant_import.h).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/vision/hf_vision_names.h"
#include "model/vision/mmproj_tensors.h"

namespace sluice {

class SafetensorsModel;
struct SafetensorsTensor;

// Whether the checkpoint in `dir` holds any tensor under a vision tower prefix of any family
// (false for text-only conversions of a VLM, which keep its config.json). Unreadable files count
// as holding one, so that loading reports them.
bool holds_vision_tensors(const std::string& dir);

class HfMmprojTensors final : public MmprojTensors {
 public:
  // The tower `c` describes, in the checkpoint's tensors (the shards of
  // model.safetensors.index.json, else model.safetensors, else every *.safetensors). Errors:
  // `[vision] DIR: what` (no tower under any known prefix, unreadable files).
  static Result<std::unique_ptr<HfMmprojTensors>> open(const std::string& dir,
                                                       const VisionConfig& c);
  ~HfMmprojTensors() override;

  // The checkpoint's prefixes of the tower and (Gemma 3) the projector.
  const std::string& tower_prefix() const { return tower_prefix_; }

  Status fail(const std::string& what) const override;
  bool has(const std::string& name) const override;
  std::vector<int64_t> ggml_shape(const std::string& name) const override;
  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const override;
  Result<Weight> vector(const std::string& name, int64_t n) const override;
  Result<Weight> patch_conv(const std::string& name, int64_t hidden, int64_t patch) const override;

 private:
  HfMmprojTensors(std::string dir, const VisionConfig& c);
  const SafetensorsTensor* find(const std::string& full_name) const;
  std::string full_name(const HfVisionTensor& e) const;
  // The entry of an mmproj name and its checkpoint tensor (errors name both).
  Result<const HfVisionTensor*> entry(const std::string& name) const;
  Result<const SafetensorsTensor*> tensor(const HfVisionTensor& e) const;
  // The whole checkpoint tensor of e as a [rows, cols] Weight (float, or MLX-quantized).
  Result<Weight> whole(const HfVisionTensor& e, int64_t rows, int64_t cols) const;

  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsModel>> files_;
  std::map<std::string, HfVisionTensor> table_;  // by mmproj name
  std::string tower_prefix_, projector_prefix_;
};

}  // namespace sluice
