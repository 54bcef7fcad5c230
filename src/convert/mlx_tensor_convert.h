#pragma once
// One GGUF tensor -> MLX safetensors tensors. Exact where the ggml block maps onto MLX affine
// group-32 quantization (w = scale * q + bias):
//   Q4_1 (d, m)  -> 4-bit, scale d, bias m        Q4_0 (d) -> 4-bit, scale d, bias -8d
//   Q8_0 (d, q)  -> 8-bit, codes q + 128, scale d, bias -128d
// scales/biases are F16 (the ggml half values, bit for bit); a tensor whose derived bias
// overflows half keeps F32 scales. F32/F16/BF16 tensors stay float (dtype chosen to be exact).
// K-quants have no exact MLX layout here: refused, or with allow_lossy
// dequantized (ggml's f32 values) and requantized: 4-bit for Q4_K, 8-bit for Q5_K/Q6_K.
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace sluice {

struct MlxTensorOptions {
  // Non-quantized tensors: "auto" (the first of F16, BF16, F32 holding every value exactly),
  // or F16 / BF16 / F32 (rounding needs allow_lossy).
  std::string float_dtype = "auto";
  bool allow_lossy = false;
  bool quantized_matrix = true;  // false: a vector (norm, bias), always written as float
  // Output row r is input row row_order[r] (Q/K de-permutation); empty: identity.
  std::vector<int64_t> row_order;
};

struct MlxTensorResult {
  std::vector<SafetensorsWriteTensor> tensors;  // name.weight (+ name.scales, name.biases)
  int bits = 0;                                 // 0: written as a float tensor
  std::string dtype;                            // float tensor dtype, or scales/biases dtype
  bool exact = true;                            // dequantized values equal the input's, bit for bit
  double rel_l2 = 0.0;                          // of output vs input values (dequantized, f32)
  double max_abs = 0.0;
};

// t holds [rows, cols] (cols innermost); `name` is the output name ("....q_proj.weight").
// Values are checked after conversion: an inexact result without allow_lossy is an error.
Result<MlxTensorResult> gguf_tensor_to_mlx(const GgufTensorInfo& t, const std::string& name,
                                           int64_t rows, int64_t cols, const MlxTensorOptions& o);

// HF row order of a Q or K matrix stored by llama.cpp's converter for interleaved RoPE:
// HF row (h, s, i) [i < head_dim/2, s < 2] is GGUF row h*head_dim + 2i + s.
std::vector<int64_t> unpermute_rope_rows(int64_t num_heads, int64_t head_dim);

}  // namespace sluice
