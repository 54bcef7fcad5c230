#pragma once
// Repacks quantized tensors of every file format into the ONE internal family (backend/dtype.h).
// Lossless: only the half-precision rounding of derived scales/offsets (e.g. Q4_K d*sc) differs.
//   GGUF Q4_1 -> Q4G32 (zero copy)   Q4_0 -> Q4G32 (offset = -8d)   Q8_0 -> Q8G32 (offset 0)
//   GGUF Q4_K -> Q4G32               Q5_K -> Q8G32 (5-bit codes)    Q6_K -> Q8G16
//   GGUF Q5_0 -> Q8G32 (codes q-16)  Q5_1 -> Q8G32 (codes 0..31)
//   MLX affine 4-bit (group 32/64/128) -> Q4G32;  MLX affine 8-bit -> Q8G32 (codes re-centred)
#include <cstdint>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"
#include "formats/gguf.h"

namespace sluice {

// A GGUF tensor of `rows` x `cols` (cols = innermost) into a Weight. F32/F16/BF16 map without
// copying; quantized types become the internal family.
Result<Weight> import_gguf_tensor(const GgufTensorInfo& t, int64_t rows, int64_t cols);

enum class MlxScaleType { F32, F16, BF16 };
// MLX affine quantization: packed [rows, cols*bits/32] uint32 (element k of a word at bits
// k*bits), scales and biases [rows, cols/group_size]; w = scale*q + bias.
Result<Weight> import_mlx_quantized(const uint32_t* packed, const void* scales, const void* biases,
                                    MlxScaleType scale_type, int bits, int group_size, int64_t rows,
                                    int64_t cols);

// Quantizes float rows (for make-model and tests). `type` one of the internal family
// (F32/F16/BF16 are converted). Q4G32: affine min/max per 32; Q8G32/Q8G16: symmetric, offset 0.
Weight quantize_weight(const float* w, int64_t rows, int64_t cols, DType type);

// Encoders producing GGUF tensor data (for make-model), rows x cols with cols innermost.
// Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K (K types need cols % 256 == 0,
// the others cols % 32 == 0). An unsupported type or shape is a programming error (asserts).
bool gguf_quantize_supported(GgufType type);
std::vector<uint8_t> quantize_to_gguf(GgufType type, const float* w, int64_t rows, int64_t cols);

// MLX affine quantization of float rows: per group scale = (max-min)/(2^bits-1), bias = min
// (scale 0 for a constant group). scales/biases hold little-endian values of `scale_type`.
struct MlxQuantized {
  std::vector<uint32_t> packed;  // [rows, cols*bits/32]
  std::vector<uint8_t> scales;   // [rows, cols/group_size] of scale_type
  std::vector<uint8_t> biases;   // [rows, cols/group_size] of scale_type
};
MlxQuantized quantize_to_mlx(const float* w, int64_t rows, int64_t cols, int bits, int group_size,
                             MlxScaleType scale_type = MlxScaleType::F16);

}  // namespace sluice
