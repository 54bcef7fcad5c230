#pragma once
// Byte layouts of the ggml block formats read and written by quant_import*.cc (QK_K = 256).
// Half-precision fields are IEEE half bit patterns.
#include <cstdint>

#include "backend/quant_blocks.h"

namespace sluice::ggml {

constexpr int64_t kQK = 32;    // elements per block of the simple formats
constexpr int64_t kQKK = 256;  // elements per super-block of the K formats

struct BlockQ4_0 {  // w = d * (q - 8); q(j) = qs[j] & 15, q(j + 16) = qs[j] >> 4
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {  // w = d * q + m; nibbles as Q4_0
  uint16_t d, m;
  uint8_t qs[16];
};
struct BlockQ5_0 {  // w = d * (q - 16); q(j) = nibble(j) | bit j of qh (LE u32) << 4
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ5_1 {  // w = d * q + m; q as Q5_0
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {  // w = d * q
  uint16_t d;
  int8_t qs[32];
};
// MXFP4 (OCP microscaling): w = 2^(e - 128) * kFp4Doubled[q]; nibbles as Q4_0. e = 255 is NaN.
struct BlockMxfp4 {
  uint8_t e;
  uint8_t qs[16];
};
// E2M1 values doubled, by 4-bit code (sign in bit 3): the internal MXFP4's codes.
inline constexpr const int8_t (&kFp4Doubled)[16] = kMxfp4Codes;
// 8 sub-blocks of 32 with 6-bit scales/mins packed in `scales` (see k4_scale_min);
// w = d*sc*q - dmin*m. Chunk c (64 elements): low nibbles of qs[32c..32c+31] are elements
// 64c..64c+31, high nibbles 64c+32..64c+63.
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
// As Q4_K plus a fifth bit: element 64c+l has bit (2c) of qh[l], element 64c+32+l bit (2c+1).
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
// 16 groups of 16, w = d * scales[e/16] * (q - 32), q 6-bit; for element e = 128n + 32k + l
// (k < 4, l < 32): low 4 bits from ql[64n + l + 32(k&1)] (low nibble if k < 2, else high),
// high 2 bits from qh[32n + l] >> 2k.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockMxfp4) == 17);

// Scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
inline void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

}  // namespace sluice::ggml
