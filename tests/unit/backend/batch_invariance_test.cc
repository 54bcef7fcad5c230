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

TEST(BatchInvariance, MatmulRowEqualsAloneBitwise) {
  auto cpu = make_cpu_backend(2);
  for (auto kernel : {cpu::QuantKernel::Scalar, cpu::QuantKernel::Avx2}) {
    const auto prev = cpu::set_quant_kernel(kernel);
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32}) {
      const int64_t rows = 96, cols = 256;
      const Weight w = random_weight(t, rows, cols, 3);
      for (int64_t n : {2, 3, 5, 8, 17, 64}) {
        const auto x = randn(n * cols, 100 + n);  // [n, cols]
        std::vector<float> y(n * rows);
        cpu->matmul(x.data(), n, w, y.data());
        for (int64_t i = 0; i < n; ++i) {
          std::vector<float> alone(rows);
          cpu->matmul(x.data() + i * cols, 1, w, alone.data());
          EXPECT_EQ(0, std::memcmp(alone.data(), y.data() + i * rows, rows * sizeof(float)))
              << dtype_name(t) << " n=" << n << " row " << i;
        }
      }
    }
    cpu::set_quant_kernel(prev);
  }
}

}  // namespace
}  // namespace sluice
