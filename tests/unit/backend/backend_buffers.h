#pragma once
// Test data in a backend's memory: host vectors copied up, outputs copied down, every buffer
// released with this object. Works alike for host backends and device backends.
#include <cmath>
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"

namespace sluice::testing {

class BackendBuffers {
 public:
  explicit BackendBuffers(Backend& be) : be_(be) {}
  BackendBuffers(const BackendBuffers&) = delete;
  BackendBuffers& operator=(const BackendBuffers&) = delete;
  ~BackendBuffers() {
    for (void* p : owned_) be_.release(p);
  }
  Backend& backend() const { return be_; }

  template <typename T>
  T* up(const std::vector<T>& host) {
    void* p = be_.alloc(host.size() * sizeof(T));
    be_.to_device(p, host.data(), host.size() * sizeof(T));
    owned_.push_back(p);
    return static_cast<T*>(p);
  }
  // A buffer pre-filled with NaN so unwritten outputs show up.
  float* poisoned(size_t count) { return up(std::vector<float>(count, NAN)); }
  template <typename T>
  std::vector<T> down(const T* p, size_t count) {
    std::vector<T> h(count);
    be_.to_host(h.data(), p, count * sizeof(T));
    return h;
  }
  // A KV cache layer of `count` elements in the backend's KV dtype, poisoned (NaN).
  void* poisoned_kv(size_t count) {
    if (be_.kv_dtype() == KvDtype::F32) return poisoned(count);
    return up(std::vector<uint16_t>(count, 0x7E00));  // f16 NaN
  }
  // A KV cache layer back as floats (f16 widened exactly).
  std::vector<float> down_kv(const void* p, size_t count) {
    if (be_.kv_dtype() == KvDtype::F32) return down(static_cast<const float*>(p), count);
    const auto h = down(static_cast<const uint16_t*>(p), count);
    std::vector<float> f(count);
    for (size_t i = 0; i < count; ++i) f[i] = f16_to_f32(h[i]);
    return f;
  }

 private:
  Backend& be_;
  std::vector<void*> owned_;
};

}  // namespace sluice::testing
