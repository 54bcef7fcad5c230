#pragma once
// Writes a model (config + canonical tensors + tokenizer) in any supported file format.
// Used by `make-model`; tensor values come from a producer so no more than one is held as f32.
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "convert/synthetic_model.h"
#include "model/model_config.h"

namespace sluice {

enum class OutputFormat {
  kGgufF16,
  kGgufQ8_0,
  kGgufQ4_0,
  kGgufQ4_1,
  kGgufQ4_K,
  kSafetensorsBF16,
  kMlx4,
  kMlx8,
  kGgufMxfp4,         // experts MXFP4, other matrices Q8_0 (gpt-oss as published)
  kSafetensorsMxfp4,  // transformers' gpt-oss: experts "*_blocks"/"*_scales", the rest BF16
};
Result<OutputFormat> parse_output_format(const std::string& name);
bool is_gguf_format(OutputFormat f);

struct WriteOptions {
  OutputFormat format = OutputFormat::kGgufF16;
  int group_size = 64;               // MLX formats
  std::string float_dtype = "BF16";  // safetensors/MLX float tensors: BF16, F16 or F32
  std::string tokenizer_path;        // tokenizer.json (tokenizer_config.json beside it) or a GGUF
  std::string name = "sluice-synthetic";
  // Directory formats: write the language model of a vision-language directory in its family's
  // layout (convert/hf_vlm_layout.h; gemma3, qwen2vl, qwen3vl, qwen3vlmoe), transformers' for
  // safetensors-bf16, mlx-vlm's for mlx-4/8; mm_tokens_per_image: Gemma 3's, from the tower.
  bool vlm = false;
  int64_t mm_tokens_per_image = 0;
};

using TensorProducer = std::function<std::vector<float>(const TensorSpec&)>;

// out: a .gguf file for GGUF formats, else a directory (created).
Status write_model(const ModelConfig& c, const std::vector<TensorSpec>& tensors,
                   const TensorProducer& produce, const WriteOptions& opts, const std::string& out);

// config.json for Hugging Face / mlx-lm (with `quantization` for the MLX formats).
nlohmann::json hf_config_json(const ModelConfig& c, const WriteOptions& o);

// Number of tokens in a tokenizer.json or GGUF tokenizer (to size the vocabulary).
Result<int64_t> tokenizer_vocab_size(const std::string& tokenizer_path);

}  // namespace sluice
