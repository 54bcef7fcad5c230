#pragma once
// `sluice convert`: a GGUF model -> an mlx-lm model directory (config.json with
// `quantization: {group_size: 32, bits}`, model.safetensors, tokenizer.json,
// tokenizer_config.json) holding the same weights. See docs/CONVERT.md for what is exact.
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace sluice {

struct ConvertOptions {
  std::string float_dtype = "auto";  // non-quantized tensors: auto, F16, BF16 or F32
  bool allow_lossy = false;          // requantize K-quants etc., accept float rounding
};

struct ConvertSummary {
  int64_t num_tensors = 0;
  int64_t num_exact = 0;  // dequantized values equal the GGUF's, bit for bit
  double worst_rel_l2 = 0.0;
  std::string worst_tensor;
  std::map<std::string, int64_t> mappings;  // "Q4_1 -> MLX 4-bit (F16 scales)" -> tensor count
};

Result<ConvertSummary> convert_gguf_to_mlx(const std::string& gguf_path, const std::string& out_dir,
                                           const ConvertOptions& o);

}  // namespace sluice
