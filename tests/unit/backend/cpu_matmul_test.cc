// The CPU backend's matmul kernels where the op table (op_cases_matmul.cc) does not reach: the
// activation quantizers bit for bit, the int8-activation mode, and kernel switches that must keep
// every bit (AVX-512 vs AVX2, AMX vs AVX-512, matmul_many vs separate products).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/reference/ref_ops.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;
using testing::rel_l2;

struct Shape {
  int64_t n, rows, cols;
};

TEST(Matmul, ActivationQuantizationIsBitExact) {
  for (int64_t cols : {32, 64, 576, 2048}) {
    auto x = randn(3 * cols, 5 + cols, 3.0f);
    for (int j = 0; j < 32; ++j) x[j] = 0.0f;  // all-zero block
    x[40] = 32767.0f / 2;                      // block max: d = 1/2, q = 32767
    for (int j = 64; j < 96; ++j) x[j] = 0.5f * (j - 80) + (j % 2 ? 0.0f : 0.25f);
    x[64] = 32767.0f;  // d = 1: x*(1/d) = x exactly, so the odd j above are exact halves
    for (auto k : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
      const auto prev = cpu::set_quant_kernel(k);
      std::vector<BlockAct16> got(3 * cols / 32), want(got.size());
      cpu::quantize_act_rows(x.data(), 0, 3, cols, got.data());
      for (int i = 0; i < 3; ++i)
        ref::quantize_act_row(x.data() + i * cols, cols, &want[i * cols / 32]);
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(BlockAct16)))
          << "cols=" << cols << " kernel=" << static_cast<int>(k);
      cpu::set_quant_kernel(prev);
    }
  }
}

TEST(Matmul, Int8ActivationQuantizationIsBitExact) {
  for (int64_t cols : {32, 64, 576, 2048}) {
    auto x = randn(3 * cols, 9 + cols, 3.0f);
    for (int j = 0; j < 32; ++j) x[j] = 0.0f;  // all-zero block
    x[40] = -127.0f / 2;                       // block max: d = 1/2, q = -127
    for (int j = 64; j < 96; ++j) x[j] = 0.5f * (j - 80) + (j % 2 ? 0.0f : 0.25f);
    x[64] = 127.0f;  // d = 1: the odd j above are exact halves (round half to even)
    for (auto k : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
      const auto prev = cpu::set_quant_kernel(k);
      std::vector<BlockAct8> got(3 * cols / 32), want(got.size());
      cpu::quantize_act8_rows(x.data(), 0, 3, cols, got.data());
      for (int i = 0; i < 3; ++i)
        ref::quantize_act8_row(x.data() + i * cols, cols, &want[i * cols / 32]);
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(BlockAct8)))
          << "cols=" << cols << " kernel=" << static_cast<int>(k);
      EXPECT_EQ(want[1].q[8], -127);
      cpu::set_quant_kernel(prev);
    }
  }
}

// The int8 mode (Q4G32 and Q8G32): (a) against the int8 reference on the same quantized
// activations, < 1e-5 (summation order only); (b) against the float reference: int8 rounding is at
// most max|x|/254 per element, ~6e-3 of a Gaussian block's rms, so < 2e-2 and, over 64+ outputs,
// > 1e-4 (it really is the int8 path). Q8G16 keeps int16 activations in this mode.
TEST(Matmul, Int8ActivationsMatchReferences) {
  const Shape shapes[] = {{1, 1, 32},    {1, 64, 576},   {2, 33, 96},  {4, 64, 256},
                          {5, 130, 512}, {13, 40, 1024}, {64, 72, 128}};
  for (auto k : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
    const auto prev = cpu::set_quant_kernel(k);
    for (int threads : {1, 2}) {
      auto cpu = make_cpu_backend(threads, /*int8_activations=*/true);
      for (DType t : {DType::Q4G32, DType::Q8G32})
        for (const Shape& s : shapes) {
          const Weight w = random_weight(t, s.rows, s.cols, 5 + s.rows + s.cols);
          const auto x = randn(s.n * s.cols, 19 + s.n);
          std::vector<float> y(s.n * s.rows), want_f(y.size()), want_q(y.size());
          cpu->matmul(x.data(), s.n, w, y.data());
          ref::matmul(x.data(), s.n, w, want_f.data());
          std::vector<BlockAct8> xq(s.n * s.cols / 32);
          for (int64_t i = 0; i < s.n; ++i)
            ref::quantize_act8_row(x.data() + i * s.cols, s.cols, &xq[i * s.cols / 32]);
          ref::matmul_act8(xq.data(), s.n, w, want_q.data());
          const auto what = ::testing::Message()
                            << dtype_name(t) << " n=" << s.n << " rows=" << s.rows
                            << " cols=" << s.cols << " threads=" << threads
                            << " kernel=" << static_cast<int>(k);
          EXPECT_LT(rel_l2(y, want_q), 1e-5) << what;
          if (cpu::cpu_has_vnni256() && k == cpu::QuantKernel::Avx2) {  // same integer sums
            cpu::QuantPaths plain = cpu::default_quant_paths();
            plain.dot8 = cpu::Dot8::Maddubs;
            std::vector<float> y_plain(y.size());
            cpu::make_cpu_backend(threads, true, plain)->matmul(x.data(), s.n, w, y_plain.data());
            EXPECT_EQ(y, y_plain) << "VNNI vs AVX2" << what;
          }
          EXPECT_LT(rel_l2(y, want_f), 2e-2) << what;
          if (y.size() >= 64) {  // one dot can be lucky
            EXPECT_GT(rel_l2(y, want_f), 1e-4) << what;
          }
        }
      const Weight w6 = random_weight(DType::Q8G16, 40, 256, 3);
      const auto x = randn(7 * 256, 4);
      std::vector<float> y(7 * 40), want(y.size());
      cpu->matmul(x.data(), 7, w6, y.data());
      make_cpu_backend(threads)->matmul(x.data(), 7, w6, want.data());
      EXPECT_EQ(y, want) << "Q8G16 must not change in int8 mode";
    }
    cpu::set_quant_kernel(prev);
  }
}

// Q8G32 x int8 at the integer extremes: codes -128 / 127 against q = +-127, signs arranged so
// whole blocks reach |pair sum| = 2 * 128 * 127 (vpmaddubsw's limit is 32767) and |S| = 32 * 128
// * 127. Any int16 saturation or wrap shows up as a gross error against the exact reference.
TEST(Matmul, Int8ActivationsQ8ExtremeCodes) {
  constexpr int64_t kRows = 24, kCols = 256, kBlocks = kCols / 32;
  std::vector<uint8_t> bytes(kRows * kBlocks * sizeof(BlockQ8G32));
  auto* blk = reinterpret_cast<BlockQ8G32*>(bytes.data());
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t b = 0; b < kBlocks; ++b) {
      BlockQ8G32& o = blk[r * kBlocks + b];
      o.scale = f32_to_f16(1.0f / 1024);
      o.offset = f32_to_f16(r % 3 == 0 ? 0.0f : 0.01f * static_cast<float>(r % 5) - 0.02f);
      for (int j = 0; j < 32; ++j) {  // row patterns: all -128, all 127, mixed
        const int pattern = static_cast<int>(r % 4);
        const bool lo = pattern == 0 || (pattern == 2 && j % 2 == 0) || (pattern == 3 && b % 2);
        o.codes[j] = static_cast<int8_t>(lo ? -128 : 127);
      }
    }
  const Weight w = Weight::from_owned(DType::Q8G32, kRows, kCols, std::move(bytes));
  constexpr int64_t kN = 16;
  std::vector<float> x(kN * kCols);  // |x| = 1 in every block: q = +-127
  for (int64_t i = 0; i < kN; ++i)
    for (int64_t c = 0; c < kCols; ++c) {
      const bool neg = i % 3 == 0 || (i % 3 == 1 && c % 2 == 1) || (i % 3 == 2 && (c / 32) % 2);
      x[i * kCols + c] = neg ? -1.0f : 1.0f;
    }
  std::vector<BlockAct8> xq(kN * kBlocks);
  for (int64_t i = 0; i < kN; ++i) ref::quantize_act8_row(&x[i * kCols], kCols, &xq[i * kBlocks]);
  ASSERT_EQ(xq[0].q[0], -127);
  ASSERT_EQ(xq[0].q[31], -127);
  std::vector<float> want(kN * kRows);
  ref::matmul_act8(xq.data(), kN, w, want.data());
  // Row 0 x weight row 0: 8 blocks of S = 32 * 128 * 127, times (1/1024) * (1/127) = 4 each.
  ASSERT_NEAR(want[0], 32.0f, 1e-4f);
  auto cpu = make_cpu_backend(1, /*int8_activations=*/true);
  for (auto k : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2})
    for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{8}, kN}) {  // few-rows and batched paths
      const auto prev = cpu::set_quant_kernel(k);
      std::vector<float> y(n * kRows);
      cpu->matmul(x.data(), n, w, y.data());
      cpu::set_quant_kernel(prev);
      for (int64_t e = 0; e < n * kRows; ++e)
        ASSERT_NEAR(y[e], want[e], 1e-5f * (1.0f + std::fabs(want[e])))
            << "n=" << n << " row " << e / kRows << " weight row " << e % kRows
            << " kernel=" << static_cast<int>(k);
    }
}

// Every shape, quantized dtype, activation mode (int8 mode: Q8G16 and MXFP4 stay on int16
// activations) and thread count: the products with a kernel path on (as the CPU has it) and
// with that path off are equal bit for bit. Seeds: weight w_seed + rows + cols, x x_seed + n.
template <size_t N>
void expect_switch_keeps_bits(const Shape (&shapes)[N], bool cpu::QuantPaths::*path,
                              uint32_t w_seed, uint32_t x_seed) {
  cpu::QuantPaths without = cpu::default_quant_paths();
  without.*path = false;
  for (bool int8 : {false, true})
    for (int threads : {1, 2}) {
      auto cpu = make_cpu_backend(threads, int8);
      auto cpu_without = cpu::make_cpu_backend(threads, int8, without);
      for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4})
        for (const Shape& s : shapes) {
          const Weight w = random_weight(t, s.rows, s.cols, w_seed + s.rows + s.cols);
          const auto x = randn(s.n * s.cols, x_seed + s.n);
          std::vector<float> on(s.n * s.rows), off(on.size());
          cpu->matmul(x.data(), s.n, w, on.data());
          cpu_without->matmul(x.data(), s.n, w, off.data());
          EXPECT_EQ(on, off) << dtype_name(t) << " int8=" << int8 << " n=" << s.n
                             << " rows=" << s.rows << " cols=" << s.cols << " threads=" << threads;
        }
    }
}

// The batched kernels' 512-bit path (vpdpwssd / vpdpbusd, 16 activation rows per vector) gives
// the 256-bit path's bits: pairs of 8-row groups, a lone group, tails below kPadFrom that go to
// the few-rows kernel, weight row counts that are not multiples of 8, both thread counts.
TEST(Matmul, WideBatchedKernelsEqualAvx2Bitwise) {
  if (!cpu::cpu_has_avx512_vnni_zmm()) GTEST_SKIP() << "this CPU has no AVX512-VNNI";
  ASSERT_TRUE(cpu::default_quant_paths().avx512)
      << "the wide path is the default where the CPU has it";
  const Shape shapes[] = {{5, 37, 96},    {8, 16, 256},   {12, 72, 128}, {16, 40, 576},
                          {17, 8, 64},    {24, 130, 512}, {31, 12, 256}, {40, 64, 1024},
                          {100, 72, 128}, {16, 49, 2048}};
  expect_switch_keeps_bits(shapes, &cpu::QuantPaths::avx512, 9, 23);
}

// The batched kernels on AMX tiles (int16 activations: 16 x 16 tile products of their split
// bytes; int8 mode: of the bytes themselves) give the AVX-512 kernels' outputs bit for bit,
// also for rows and batches that are not multiples of 16 and when n is split between threads.
TEST(Matmul, AmxTileKernelsEqualAvx512Bitwise) {
  if (!cpu::cpu_has_amx_int8()) GTEST_SKIP() << "this CPU has no AMX-INT8 (or Linux refused it)";
  ASSERT_TRUE(cpu::default_quant_paths().amx)
      << "the AMX kernel is the default where the CPU has it";
  const Shape shapes[] = {{5, 37, 96},    {8, 16, 256},   {12, 72, 128}, {16, 40, 576},
                          {17, 8, 64},    {24, 130, 512}, {31, 12, 256}, {40, 64, 1024},
                          {100, 72, 128}, {16, 49, 2048}, {33, 8, 32},   {64, 200, 3072}};
  expect_switch_keeps_bits(shapes, &cpu::QuantPaths::amx, 5, 17);
}

// matmul_many (q/k/v, gate/up: one activation quantization, one parallel region over every
// product's tiles) gives each product's separate matmul bit for bit, also when the products'
// dtypes differ (then it falls back to separate calls).
TEST(Matmul, ManyEqualsSeparateProductsBitwise) {
  EXPECT_FALSE(make_cpu_backend(1)->folds_norms(1, random_weight(DType::F32, 8, 64, 1)))
      << "the CPU backend keeps Backend's plain folded-norm paths";
  for (bool int8 : {false, true})
    for (int threads : {1, 2}) {
      auto cpu = make_cpu_backend(threads, int8);
      for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4, DType::F16})
        for (int64_t n : {1, 3, 8, 16, 21, 64}) {
          const int64_t cols = 576;
          const Weight wq = random_weight(t, 576, cols, 1), wk = random_weight(t, 192, cols, 2);
          const Weight wv = random_weight(n % 2 ? DType::Q4G32 : t, 200, cols, 3);
          const auto x = randn(n * cols, 31 + n);
          std::vector<float> q(n * 576), k(n * 192), v(n * 200);
          const Backend::Product ps[] = {{&wq, q.data()}, {&wk, k.data()}, {&wv, v.data()}};
          cpu->matmul_many(x.data(), n, ps, 3);
          std::vector<float> q1(q.size()), k1(k.size()), v1(v.size());
          cpu->matmul(x.data(), n, wq, q1.data());
          cpu->matmul(x.data(), n, wk, k1.data());
          cpu->matmul(x.data(), n, wv, v1.data());
          const auto what = ::testing::Message() << dtype_name(t) << " n=" << n
                                                 << " threads=" << threads << " int8=" << int8;
          EXPECT_EQ(q, q1) << what;
          EXPECT_EQ(k, k1) << what;
          EXPECT_EQ(v, v1) << what;
        }
    }
}

// Q4G32R8 (rows interleaved in eights) gives Q4G32's products bit for bit in both activation
// modes: the few-row kernels, the batched kernels on blocks unpacked from it, the scalar
// fallbacks; every path variant (AMX never takes it); plain matmuls and expert products.
TEST(Matmul, InterleavedRowsEqualQ4G32Bitwise) {
  std::vector<cpu::QuantPaths> variants = {cpu::default_quant_paths()};
  for (bool cpu::QuantPaths::*p : {&cpu::QuantPaths::avx512, &cpu::QuantPaths::amx}) {
    variants.push_back(variants[0]);
    variants.back().*p = !(variants[0].*p);
  }
  for (cpu::Dot8 d : {cpu::Dot8::Maddubs, cpu::Dot8::VexVnni, cpu::Dot8::EvexVnni}) {
    if ((d == cpu::Dot8::VexVnni && !cpu::cpu_has_avx_vnni()) ||
        (d == cpu::Dot8::EvexVnni && !cpu::cpu_has_avx512_vnni_vl()))
      continue;
    variants.push_back(variants[0]);
    variants.back().dot8 = d;
  }
  const Shape shapes[] = {{1, 8, 32}, {3, 16, 96}, {5, 40, 256}, {13, 72, 1024}, {33, 264, 128}};
  for (bool int8 : {true, false})
    for (int threads : {1, 2})
      for (const cpu::QuantPaths& paths : variants) {
        if (paths.avx512 && !cpu::cpu_has_avx512_vnni_zmm()) continue;
        const auto what = ::testing::Message()
                          << "int8=" << int8 << " threads=" << threads << " avx512=" << paths.avx512
                          << " amx=" << paths.amx << " dot8=" << static_cast<int>(paths.dot8);
        auto want_cpu = make_cpu_backend(threads, int8);
        auto cpu = cpu::make_cpu_backend(threads, int8, paths);
        for (const Shape& s : shapes) {
          const Weight w = random_weight(DType::Q4G32, s.rows, s.cols, 11 + s.rows);
          const Weight w8 = q4g32_to_rows8(w);
          for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{4}, s.n, s.n + 8}) {
            const auto x = randn(n * s.cols, 41 + n);
            std::vector<float> want(n * s.rows), y(want.size());
            want_cpu->matmul(x.data(), n, w, want.data());
            cpu->matmul(x.data(), n, w8, y.data());
            EXPECT_EQ(y, want) << "n=" << n << " rows=" << s.rows << " cols=" << s.cols << " "
                               << what;
          }
        }
        // Experts of 16 rows: a few rows each (one region) and 5+ rows (batched kernels).
        constexpr int64_t kExperts = 4, kK = 2, kRows = 16, kCols = 192;
        const Weight stacked = random_weight(DType::Q4G32, kExperts * kRows, kCols, 5);
        const auto plain = want_cpu->place_experts(stacked, kExperts);
        const auto rows8 = cpu->place_experts(q4g32_to_rows8(stacked), kExperts);
        for (int64_t n : {1, 3, 12}) {
          std::vector<int32_t> ids(n * kK);
          for (int64_t i = 0; i < n * kK; ++i) ids[i] = static_cast<int32_t>((i * 3) % kExperts);
          const auto x = randn(n * kCols, 61 + n);
          std::vector<float> want(n * kK * kRows), y(want.size());
          want_cpu->matmul_experts(x.data(), false, n, plain.data(), kExperts, ids.data(), kK,
                                   want.data());
          cpu->matmul_experts(x.data(), false, n, rows8.data(), kExperts, ids.data(), kK, y.data());
          EXPECT_EQ(y, want) << "experts n=" << n << " " << what;
        }
      }
  // Without the AVX2 kernels: the scalar fallbacks, against the AVX2 kernels' Q4G32 products.
  const Weight w = random_weight(DType::Q4G32, 24, 64, 3);
  for (bool int8 : {true, false})
    for (int64_t n : {1, 9}) {
      const auto x = randn(n * 64, 3);
      std::vector<float> want(n * 24), y(want.size());
      auto cpu = make_cpu_backend(1, int8);
      cpu->matmul(x.data(), n, w, want.data());
      const auto prev = cpu::set_quant_kernel(cpu::QuantKernel::Scalar);
      cpu->matmul(x.data(), n, q4g32_to_rows8(w), y.data());
      cpu::set_quant_kernel(prev);
      EXPECT_EQ(y, want) << "scalar int8=" << int8 << " n=" << n;
    }
}

}  // namespace
}  // namespace sluice
