#pragma once
// The CudaOps test fixture: a CUDA backend (the test skips without a GPU) and helpers that move
// test data to and from device buffers, freed at the end of the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"

namespace sluice {

class CudaOps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available())
      GTEST_SKIP() << "no CUDA GPU here (needs a -DSLUICE_CUDA=ON build on a GPU machine)";
    auto be = make_backend("cuda", 0);
    ASSERT_TRUE(be.ok()) << be.error();
    gpu_ = std::move(be.value());
  }
  void TearDown() override {
    for (void* p : buffers_) gpu_->release(p);
  }
  template <typename T>
  T* up(const std::vector<T>& host) {
    void* p = gpu_->alloc(host.size() * sizeof(T));
    gpu_->to_device(p, host.data(), host.size() * sizeof(T));
    buffers_.push_back(p);
    return static_cast<T*>(p);
  }
  // A device buffer pre-filled with NaN so unwritten outputs show up.
  float* poisoned(size_t count) { return up(std::vector<float>(count, NAN)); }
  std::vector<float> down(const float* p, size_t count) {
    std::vector<float> h(count);
    gpu_->to_host(h.data(), p, count * sizeof(float));
    return h;
  }
  // A KV cache layer of `count` elements in the backend's KV dtype, poisoned (NaN).
  void* poisoned_kv(size_t count) {
    if (gpu_->kv_dtype() == KvDtype::F32) return poisoned(count);
    return up(std::vector<uint16_t>(count, 0x7E00));  // f16 NaN
  }
  // A KV cache layer back as floats (f16 widened exactly).
  std::vector<float> down_kv(const void* p, size_t count) {
    if (gpu_->kv_dtype() == KvDtype::F32) return down(static_cast<const float*>(p), count);
    std::vector<uint16_t> h(count);
    gpu_->to_host(h.data(), p, count * sizeof(uint16_t));
    std::vector<float> f(count);
    for (size_t i = 0; i < count; ++i) f[i] = f16_to_f32(h[i]);
    return f;
  }
  static bool finite(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
  }

  std::unique_ptr<Backend> gpu_;
  std::vector<void*> buffers_;
};

}  // namespace sluice
