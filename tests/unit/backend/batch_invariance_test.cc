// Batch invariance: a row's matmul / attention result must not depend on how many other rows
// share the call (what the engine's --deterministic mode relies on).
#include <gtest/gtest.h>

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
  const DType types[] = {DType::F32,   DType::F16,   DType::BF16,
                         DType::Q4G32, DType::Q8G32, DType::Q8G16};
  for (int threads : {1, 2}) {
    auto cpu = make_cpu_backend(threads);
    for (auto kernel : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
      const auto prev = cpu::set_quant_kernel(kernel);
      for (DType t : types) {
        if (!is_quantized(t) && kernel == cpu::QuantKernel::Scalar) continue;
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
                  << " threads=" << threads << " kernel=" << static_cast<int>(kernel);
          }
        }
      }
      cpu::set_quant_kernel(prev);
    }
  }
}

// The scalar and AVX2 quantized kernels share one float operation order, so they agree bitwise
// (not required by batch invariance, but it pins the order down in one place).
TEST(BatchInvariance, QuantizedScalarEqualsAvx2Bitwise) {
  if (cpu::set_quant_kernel(cpu::QuantKernel::Avx2) != cpu::QuantKernel::Avx2 &&
      cpu::quant_kernel() != cpu::QuantKernel::Avx2)
    GTEST_SKIP() << "no AVX2";
  auto cpu = make_cpu_backend(2);
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
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
          << dtype_name(t) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace sluice
