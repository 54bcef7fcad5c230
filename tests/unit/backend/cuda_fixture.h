#pragma once
// The CudaOps test fixture: a CUDA backend (the test skips without a GPU) and helpers that move
// test data to and from device buffers, freed at the end of the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend_buffers.h"

namespace sluice {

class CudaOps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available())
      GTEST_SKIP() << "no CUDA GPU here (needs a -DSLUICE_CUDA=ON build on a GPU machine)";
    auto be = make_backend("cuda", 0);
    ASSERT_TRUE(be.ok()) << be.error();
    gpu_ = std::move(be.value());
    buffers_ = std::make_unique<testing::BackendBuffers>(*gpu_);
  }
  void TearDown() override { buffers_.reset(); }
  template <typename T>
  T* up(const std::vector<T>& host) {
    return buffers_->up(host);
  }
  // A device buffer pre-filled with NaN so unwritten outputs show up.
  float* poisoned(size_t count) { return buffers_->poisoned(count); }
  std::vector<float> down(const float* p, size_t count) { return buffers_->down(p, count); }
  static bool finite(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
  }

  std::unique_ptr<Backend> gpu_;
  std::unique_ptr<testing::BackendBuffers> buffers_;
};

}  // namespace sluice
