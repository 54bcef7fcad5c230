#pragma once
// Compile-time facts of the quantized weight family's blocks (quant_blocks.h), per dtype.
#include <cstdint>

#include "backend/dtype.h"
#include "backend/quant_blocks.h"

namespace sluice::cpu {

// Groups per block of 32 with their own scale and offset (Q8G16: two of 16).
template <DType T>
constexpr int kGroups = T == DType::Q8G16 ? 2 : 1;
template <DType T>
constexpr int64_t kBlockBytes = T == DType::Q4G32   ? sizeof(BlockQ4G32)
                                : T == DType::Q8G32 ? sizeof(BlockQ8G32)
                                                    : sizeof(BlockQ8G16);
// Byte offset of the codes in a block (after the half-precision scales and offsets).
template <DType T>
constexpr int64_t kCodesOffset = T == DType::Q8G16 ? 8 : 4;

}  // namespace sluice::cpu
