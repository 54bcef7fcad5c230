#pragma once
// Quantizers: float rows -> the internal weight family, GGUF blocks and MLX affine packing (the
// inverse of model/quant_import.h's importers), for make-model, convert and tests.
#include <cstdint>
#include <vector>

#include "backend/weight.h"
#include "formats/gguf.h"
#include "model/load/quant_import.h"

namespace sluice {

// Quantizes float rows (for make-model and tests). `type` one of the internal family
// (F32/F16/BF16 are converted). Q4G32: affine min/max per 32; Q8G32/Q8G16: symmetric, offset 0;
// MXFP4 as llama.cpp quantizes it.
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
