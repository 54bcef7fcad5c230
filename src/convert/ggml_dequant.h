#pragma once
// ggml's own dequantization of one row, in f32 with ggml's operation order (the values llama.cpp
// means), as the ground truth for conversions. Unlike import_gguf_tensor it never rounds derived
// scales (Q4_K's d*sc) to half.
#include <cstdint>

#include "formats/gguf.h"

namespace sluice {

// Supported: the types gguf_type_block() knows (F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q5_K,
// Q6_K); false otherwise.
// The tensor must hold at least row+1 rows of `cols` (validated by the caller).
bool ggml_dequantize_row(const GgufTensorInfo& t, int64_t cols, int64_t row, float* out);

}  // namespace sluice
