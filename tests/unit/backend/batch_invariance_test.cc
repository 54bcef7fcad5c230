// Batch invariance: a row's matmul / attention result must not depend on how many other rows
// share the call (what the engine's --deterministic mode relies on).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;

struct MatShape {
  int64_t rows, cols;
};

TEST(BatchInvariance, MatmulRowEqualsAloneBitwise) {
  // 101 rows: weight-row tails of every kernel; 288 cols: 9 blocks.
  const MatShape shapes[] = {{96, 256}, {101, 288}};
  const DType types[] = {DType::F32,   DType::F16,   DType::BF16, DType::Q4G32,
                         DType::Q8G32, DType::Q8G16, DType::MXFP4};
  for (int threads : {1, 2})
    for (bool int8 : {false, true}) {
      auto cpu = make_cpu_backend(threads, int8);
      for (auto kernel : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
        const auto prev = cpu::set_quant_kernel(kernel);
        for (DType t : types) {
          if (!is_quantized(t) && kernel == cpu::QuantKernel::Scalar) continue;
          if (int8 && t != DType::Q4G32 && t != DType::Q8G32) continue;  // int8 mode's types
          for (const MatShape& s : shapes) {
            const Weight w = random_weight(t, s.rows, s.cols, 3);
            constexpr int64_t kMaxN = 70;
            const auto x = randn(kMaxN * s.cols, 100);  // [kMaxN, cols]
            std::vector<float> alone(kMaxN * s.rows);   // [kMaxN, rows], one row per call
            for (int64_t i = 0; i < kMaxN; ++i)
              cpu->matmul(x.data() + i * s.cols, 1, w, alone.data() + i * s.rows);
            for (int64_t n : {2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 23, 24, 31, 64, 70}) {
              std::vector<float> y(n * s.rows);
              cpu->matmul(x.data(), n, w, y.data());
              for (int64_t i = 0; i < n; ++i)
                ASSERT_EQ(0, std::memcmp(alone.data() + i * s.rows, y.data() + i * s.rows,
                                         s.rows * sizeof(float)))
                    << dtype_name(t) << " n=" << n << " row " << i << " rows=" << s.rows
                    << " threads=" << threads << " kernel=" << static_cast<int>(kernel)
                    << " int8=" << int8;
            }
          }
        }
        cpu::set_quant_kernel(prev);
      }
    }
}

// Expert products: a token's rows alone (the CPU's one-region path, per-row kernels) equal its
// rows in batches that send some experts 5 or more rows (their rows on the batched kernels:
// inside the one region up to 4 slots an expert on average, else Backend's grouped default),
// for shared and per-slot inputs, with and without biases.
TEST(BatchInvariance, ExpertRowsEqualAloneBitwise) {
  constexpr int64_t kExperts = 6, kK = 2, kRows = 40, kCols = 256, kMaxN = 33;
  const auto x = randn(kMaxN * kK * kCols, 101);  // [kMaxN * kK, cols]: per-slot inputs too
  const auto bias = randn(kExperts * kRows, 102);
  std::vector<int32_t> ids(kMaxN * kK);
  for (int64_t t = 0; t < kMaxN; ++t)
    for (int64_t j = 0; j < kK; ++j) ids[t * kK + j] = static_cast<int32_t>((t * 3 + j * 2) % 5);
  for (int threads : {1, 2})
    for (bool int8 : {false, true}) {
      auto cpu = make_cpu_backend(threads, int8);
      for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4}) {
        const std::vector<Weight> gate =
            cpu->place_experts(random_weight(t, kExperts * kRows, kCols, 7), kExperts);
        const std::vector<Weight> up =
            cpu->place_experts(random_weight(t, kExperts * kRows, kCols, 8), kExperts);
        // y[n * kK, 2 * kRows]: the gate and up rows of the slots of tokens [t0, t0 + n).
        auto run = [&](int64_t t0, int64_t n, bool per_slot, float* y) {
          std::vector<float> g(n * kK * kRows), u(n * kK * kRows);
          const int32_t* tid = ids.data() + t0 * kK;
          if (per_slot) {
            cpu->matmul_experts(x.data() + t0 * kK * kCols, true, n, gate.data(), kExperts, tid, kK,
                                g.data());
            cpu->matmul_experts(x.data() + t0 * kK * kCols, true, n, up.data(), kExperts, tid, kK,
                                u.data());
          } else {
            const Backend::ExpertProduct ps[2] = {{gate.data(), bias.data(), g.data()},
                                                  {up.data(), nullptr, u.data()}};
            std::vector<float> scratch(n * kK * kRows);
            cpu->matmul_experts_many(x.data() + t0 * kCols, n, ps, 2, kExperts, tid, kK,
                                     scratch.data());
          }
          for (int64_t s = 0; s < n * kK; ++s) {
            std::copy_n(g.begin() + s * kRows, kRows, y + s * 2 * kRows);
            std::copy_n(u.begin() + s * kRows, kRows, y + s * 2 * kRows + kRows);
          }
        };
        for (bool per_slot : {false, true}) {
          const int64_t per_token = kK * 2 * kRows;
          std::vector<float> alone(kMaxN * per_token);
          for (int64_t i = 0; i < kMaxN; ++i) run(i, 1, per_slot, alone.data() + i * per_token);
          for (int64_t n : {2, 3, 8, 12, 33}) {  // 12 and 33: some experts get 5 or more rows
            std::vector<float> y(n * per_token);
            run(0, n, per_slot, y.data());
            ASSERT_EQ(0, std::memcmp(alone.data(), y.data(), y.size() * sizeof(float)))
                << dtype_name(t) << " n=" << n << " per_slot=" << per_slot << " threads=" << threads
                << " int8=" << int8;
          }
        }
      }
    }
}

// The scalar and AVX2 quantized kernels share one float operation order, so they agree bitwise
// (not required by batch invariance, but it pins the order down in one place).
TEST(BatchInvariance, QuantizedScalarEqualsAvx2Bitwise) {
  if (cpu::set_quant_kernel(cpu::QuantKernel::Avx2) != cpu::QuantKernel::Avx2 &&
      cpu::quant_kernel() != cpu::QuantKernel::Avx2)
    GTEST_SKIP() << "no AVX2";
  for (bool int8 : {false, true})
    for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4}) {
      auto cpu = make_cpu_backend(2, int8);
      const Weight w = random_weight(t, 77, 576, 5);
      for (int64_t n : {1, 5, 19}) {
        const auto x = randn(n * 576, 7 + n);
        std::vector<float> y_avx(n * 77), y_scalar(n * 77);
        cpu::set_quant_kernel(cpu::QuantKernel::Avx2);
        cpu->matmul(x.data(), n, w, y_avx.data());
        const auto prev = cpu::set_quant_kernel(cpu::QuantKernel::Scalar);
        cpu->matmul(x.data(), n, w, y_scalar.data());
        cpu::set_quant_kernel(prev);
        EXPECT_EQ(0, std::memcmp(y_avx.data(), y_scalar.data(), y_avx.size() * sizeof(float)))
            << dtype_name(t) << " n=" << n << " int8=" << int8;
      }
    }
}

// Attention of one sequence's tokens: prefilled in one call, chunked, one token per call
// (decode), and next to other sequences (which changes the tiling) all agree bit for bit.
TEST(BatchInvariance, AttentionRowEqualsAloneBitwise) {
  struct Heads {
    int64_t heads, kv_heads, head_dim;
  };
  for (const Heads& hc : {Heads{9, 3, 64}, Heads{16, 8, 128}, Heads{4, 4, 32}, Heads{32, 8, 64}}) {
    constexpr int64_t kLen = 150, kBlock = 16, kOther = 5;  // 5 one-token neighbours
    const int64_t blocks_per_seq = (kLen + kBlock - 1) / kBlock;
    const int64_t num_blocks = (1 + kOther) * blocks_per_seq + 1;
    const int64_t kv_row = hc.kv_heads * hc.head_dim;
    auto k = randn(num_blocks * kBlock * kv_row, 11), v = randn(num_blocks * kBlock * kv_row, 12);
    KvLayerView cache{k.data(), v.data(), num_blocks, kBlock, hc.kv_heads, hc.head_dim};
    // Sequence 0 uses blocks in reverse order; neighbour o uses its own range.
    std::vector<int32_t> tables((1 + kOther) * blocks_per_seq);
    for (int64_t b = 0; b < blocks_per_seq; ++b)
      tables[b] = static_cast<int32_t>(blocks_per_seq - b);
    for (int64_t i = blocks_per_seq; i < static_cast<int64_t>(tables.size()); ++i)
      tables[i] = static_cast<int32_t>(i + 1);
    const int64_t row = hc.heads * hc.head_dim;
    const auto q = randn(kLen * row, 13);
    const float scale = 0.125f;

    // Tokens [t0, t1) of sequence 0, plus `others` neighbours decoding at position 99.
    auto run = [&](Backend& be, int64_t t0, int64_t t1, int64_t others, float* out) {
      std::vector<int32_t> qs = {0, static_cast<int32_t>(t1 - t0)}, pos;
      for (int64_t t = t0; t < t1; ++t) pos.push_back(static_cast<int32_t>(t));
      std::vector<float> qb(q.begin() + t0 * row, q.begin() + t1 * row);
      for (int64_t o = 0; o < others; ++o) {
        pos.push_back(99);
        qs.push_back(qs.back() + 1);
        qb.insert(qb.end(), q.begin(), q.begin() + row);
      }
      AttentionBatch batch;
      batch.num_seqs = 1 + others;
      batch.query_start = qs.data();
      batch.positions = pos.data();
      batch.block_tables = tables.data();
      batch.max_blocks_per_seq = blocks_per_seq;
      std::vector<float> ob(qb.size());
      be.paged_attention(qb.data(), hc.heads, cache, batch, scale, ob.data());
      std::copy_n(ob.begin(), (t1 - t0) * row, out);
    };
    for (int threads : {1, 2}) {
      auto cpu = make_cpu_backend(threads);
      std::vector<float> alone(kLen * row), got(kLen * row);
      for (int64_t t = 0; t < kLen; ++t) run(*cpu, t, t + 1, 0, alone.data() + t * row);
      for (int64_t chunk : {kLen, int64_t{13}, int64_t{64}})
        for (int64_t others : {int64_t{0}, kOther}) {
          for (int64_t t = 0; t < kLen; t += chunk)
            run(*cpu, t, std::min(kLen, t + chunk), others, got.data() + t * row);
          ASSERT_EQ(0, std::memcmp(alone.data(), got.data(), got.size() * sizeof(float)))
              << "heads " << hc.heads << "/" << hc.kv_heads << " chunk " << chunk << " others "
              << others << " threads " << threads;
        }
    }
  }
}

}  // namespace
}  // namespace sluice
