#pragma once
// Where a model's tensors come from. Names are canonical Hugging Face names
// ("model.layers.3.self_attn.q_proj.weight"); each source maps them to its file's names.
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"

namespace sluice {

class GgufFile;

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // A matrix [rows, cols] (rows = output features); errors if missing or of another shape.
  virtual Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const = 0;
  // num_experts matrices [rows, cols] stacked into one [num_experts * rows, cols] (name: the
  // canonical stacked name, "model.layers.3.mlp.experts.gate_proj.weight").
  virtual Result<Weight> experts(const std::string& name, int64_t num_experts, int64_t rows,
                                 int64_t cols) const = 0;
  // The experts' biases of a stacked projection: [num_experts, n] floats, row-major.
  virtual Result<std::vector<float>> expert_biases(const std::string& name, int64_t num_experts,
                                                   int64_t n) const = 0;
  // A vector of n floats (norm weights, biases).
  virtual Result<std::vector<float>> vector(const std::string& name, int64_t n) const = 0;
  // A depthwise convolution's kernel [channels, kernel] as floats (GGUF [kernel, channels] in
  // ggml order; Hugging Face [channels, 1, kernel]; MLX [channels, kernel, 1]).
  virtual Result<std::vector<float>> conv_kernel(const std::string& name, int64_t channels,
                                                 int64_t kernel) const = 0;
};

// The GGUF file must outlive the source and every Weight taken from it. `dtypes`: the optional
// members of the family the quantized tensors may become.
std::unique_ptr<WeightSource> make_gguf_weight_source(const GgufFile& gguf,
                                                      OptionalDTypes dtypes = {});
// A safetensors model directory (HF float weights or MLX-quantized; `config` is its config.json).
Result<std::unique_ptr<WeightSource>> make_safetensors_weight_source(const std::string& dir,
                                                                     const nlohmann::json& config,
                                                                     OptionalDTypes dtypes = {});

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; "" if it has no GGUF name.
// arch: the GGUF architecture where names differ by family (gemma3's norms).
std::string gguf_tensor_name(const std::string& hf_name, const std::string& arch = "");

// A safetensors dtype name of a float tensor sluice reads as it is: F32, F16 or BF16.
bool checkpoint_float_dtype(const std::string& name, DType* out);

// "[2560, 1152]": a tensor's shape in load errors.
inline std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace sluice
