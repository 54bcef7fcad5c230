#pragma once
// Memory layout of the quantized weight family and of int16/int8-quantized activations.
// Scales/offsets are IEEE half bit patterns. Element j of a block (0..31):
#include <cstdint>
#include <cstring>

namespace sluice {

// Q4G32: code(j) = j < 16 ? codes[j] & 15 : codes[j - 16] >> 4;  w = scale*code + offset.
// Byte-identical to GGUF Q4_1, so those tensors map without copying.
struct BlockQ4G32 {
  uint16_t scale;
  uint16_t offset;
  uint8_t codes[16];
};
static_assert(sizeof(BlockQ4G32) == 20);

// Q4G32R8: Q4G32 with its rows interleaved in eights (rows % 8 == 0), for the CPU's int8
// few-row kernels: lanes are weight rows, so a block's 8 row sums need no transposition. Block b
// of rows 8g..8g+7 holds row l's scale[l], offset[l] and its codes bytes 4j..4j+3 in
// codes[j][4l..4l+3]. Eight Q4G32 blocks' bytes: row r's stride is Q4G32's.
struct BlockQ4G32R8 {
  uint16_t scale[8];
  uint16_t offset[8];
  uint8_t codes[4][32];
};
static_assert(sizeof(BlockQ4G32R8) == 8 * sizeof(BlockQ4G32));

// Row l's block of an interleaved block, as Q4G32.
inline BlockQ4G32 q4g32r8_row_block(const BlockQ4G32R8& g, int l) {
  BlockQ4G32 b;
  b.scale = g.scale[l];
  b.offset = g.offset[l];
  for (int j = 0; j < 4; ++j) std::memcpy(b.codes + 4 * j, g.codes[j] + 4 * l, 4);
  return b;
}

// Q8G32: w = scale*codes[j] + offset (codes signed).
struct BlockQ8G32 {
  uint16_t scale;
  uint16_t offset;
  int8_t codes[32];
};
static_assert(sizeof(BlockQ8G32) == 36);

// Q8G16: two groups of 16; g = j / 16; w = scale[g]*codes[j] + offset[g] (for Q6_K's 16-wide
// scales).
struct BlockQ8G16 {
  uint16_t scale[2];
  uint16_t offset[2];
  int8_t codes[32];
};
static_assert(sizeof(BlockQ8G16) == 40);

// Q6G16: Q8G16's values in 6-bit signed codes, offset 0 (Q6_K's 0.82 bytes a weight read as
// 0.875, not Q8G16's 1.25): w = scale[j / 16] * code(j), code(j) in [-32, 31] as two's
// complement: bits 0-3 as Q4G32's nibbles (lo[j % 16], low nibble for j < 16); bits 4-5 in
// hi, read as two little-endian words H[j / 16]: byte j % 4, bits 2 * ((j % 16) / 4) + 0..1
// (so four elements' high bits lie in one byte each of a word, the order the CUDA kernels use).
struct BlockQ6G16 {
  uint16_t scale[2];
  uint8_t lo[16];
  uint8_t hi[8];
};
static_assert(sizeof(BlockQ6G16) == 28);
// Element j's signed code.
inline int q6g16_code(const BlockQ6G16& b, int j) {
  const int lo = j < 16 ? (b.lo[j] & 15) : (b.lo[j - 16] >> 4);
  const int hi = (b.hi[4 * (j / 16) + j % 4] >> (2 * ((j % 16) / 4))) & 3;
  const int u = lo | (hi << 4);
  return u >= 32 ? u - 64 : u;
}
// Stores element j's code (in [-32, 31]); the block's codes must start zeroed.
inline void q6g16_set_code(BlockQ6G16& b, int j, int code) {
  const int u = code & 63;
  b.lo[j % 16] |= static_cast<uint8_t>((u & 15) << (j < 16 ? 0 : 4));
  b.hi[4 * (j / 16) + j % 4] |= static_cast<uint8_t>((u >> 4) << (2 * ((j % 16) / 4)));
}

// MXFP4 (OCP microscaling, byte-identical to GGUF's): code(j) as Q4G32's nibbles, w =
// mxfp4_scale(e) * kMxfp4Codes[code]. The codes are the E2M1 values doubled (integers), the
// scale 2^(e - 128) for e >= 2 and 0 below (weights under 2^-124 read as 0); 255 is rejected
// at load.
struct BlockMxfp4 {
  uint8_t e;
  uint8_t codes[16];
};
static_assert(sizeof(BlockMxfp4) == 17);
inline constexpr int8_t kMxfp4Codes[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
// The scale's float bits: exponent field e - 1 (so 2^(e - 128)), 0 for e < 2.
constexpr uint32_t mxfp4_scale_bits(uint8_t e) {
  return e >= 2 ? static_cast<uint32_t>(e - 1) << 23 : 0u;
}
inline float mxfp4_scale(uint8_t e) {
  const uint32_t bits = mxfp4_scale_bits(e);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Activations quantized per block of 32 to int16 (relative rounding error <= 1/65534 of the
// block's max|x|, so quantized matmuls stay within ~1e-5 of f32 activations):
//   x[j] ~= d*q[j], d = max|x|/32767;  sum[h] = d * sum(q[16h .. 16h+15]) (the offset term).
struct BlockAct16 {
  float d;
  float sum[2];
  int16_t q[32];
};
static_assert(sizeof(BlockAct16) == 76);

// Activations quantized per block of 32 to int8, for Q4G32 weights when the CPU backend runs
// with int8 activations (llama.cpp's Q8 precision: rounding error <= 1/254 of the block's max|x|):
//   x[j] ~= d*q[j], d = max|x|/127;  sum = d * sum(q) (the offset term).
struct BlockAct8 {
  float d;
  float sum;
  int8_t q[32];
};
static_assert(sizeof(BlockAct8) == 40);

}  // namespace sluice
