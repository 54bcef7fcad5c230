// The CUDA kernels' Q6G16 unpacking (backend/cuda/kernels/q6_codes.h), checked on the CPU
// against quant_blocks.h's q6g16_code for every element a lane reads: the dp2a bytes of the
// weight-streaming products and the f16 pairs of the tensor-core fragments.
#include "backend/cuda/kernels/q6_codes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "backend/quant_blocks.h"

namespace sluice::cuda {
namespace {

struct Q6Words {
  uint32_t lo[4], hi[2];  // the low-nibble plane's 16 bytes and the high-bit plane's 8, as loaded
};

Q6Words words_of(const BlockQ6G16& b) {
  Q6Words w;
  std::memcpy(w.lo, b.lo, 16);
  std::memcpy(w.hi, b.hi, 8);
  return w;
}

BlockQ6G16 random_q6_block(std::mt19937& rng) {
  std::uniform_int_distribution<int> code(-32, 31);
  BlockQ6G16 b{};
  for (int j = 0; j < 32; ++j) q6g16_set_code(b, j, j < 2 ? (j ? 31 : -32) : code(rng));
  return b;
}

TEST(Q6Codes, DotBytesAreFourTimesEachCode) {
  std::mt19937 rng(3);
  for (int n = 0; n < 200; ++n) {
    const BlockQ6G16 b = random_q6_block(rng);
    const Q6Words w = words_of(b);
    for (int half = 0; half < 2; ++half)
      for (int k = 0; k < 4; ++k) {
        const uint32_t v = q6_codes4(w.lo[k], w.hi[half], k, half);
        for (int i = 0; i < 4; ++i)
          ASSERT_EQ(static_cast<int8_t>(v >> (8 * i)), 4 * q6g16_code(b, 16 * half + 4 * k + i))
              << "half " << half << " k " << k << " byte " << i;
      }
  }
}

TEST(Q6Codes, FragmentPairsAreBiasedHalves) {
  std::mt19937 rng(4);
  for (int n = 0; n < 200; ++n) {
    const BlockQ6G16 b = random_q6_block(rng);
    const Q6Words w = words_of(b);
    for (int t = 0; t < 4; ++t)
      for (int j = 0; j < 2; ++j) {
        // qgemm_tile.cuh's code_pair(piece, 2j, t): bytes 2t, 2t+1 (+ 8j) of the low nibbles.
        const uint32_t c = byte_lanes(w.lo[2 * j + (t >> 1)], 2 * (t & 1));
        for (int half = 0; half < 2; ++half) {
          const uint32_t v = q6_pair(c, w.hi[half], t, j, half);
          for (int lane = 0; lane < 2; ++lane) {
            const int e = 16 * half + 8 * j + 2 * t + lane;
            // 1056 + code as an f16: 0x6400 | (code + 32), exact below 2048
            ASSERT_EQ((v >> (16 * lane)) & 0xFFFFu, 0x6400u | (q6g16_code(b, e) + 32))
                << "t " << t << " j " << j << " element " << e;
          }
        }
      }
  }
}

}  // namespace
}  // namespace sluice::cuda
