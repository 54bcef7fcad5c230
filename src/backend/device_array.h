#pragma once
// A growable array in a backend's memory (device memory on GPU backends). Grows, never shrinks;
// contents are not kept across growth.
#include <cstddef>
#include <vector>

#include "backend/backend.h"

namespace sluice {

template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(Backend& be) : be_(&be) {}
  DeviceArray(Backend& be, size_t n) : be_(&be) { reserve(n); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : be_(o.be_), p_(o.p_), cap_(o.cap_) { o.p_ = nullptr; }
  ~DeviceArray() {
    if (p_) be_->release(p_);
  }

  // Ensures room for n elements (zeroed when newly allocated).
  T* reserve(size_t n) {
    if (n > cap_) {
      if (p_) be_->release(p_);
      cap_ = n + n / 4;
      p_ = static_cast<T*>(be_->alloc(cap_ * sizeof(T)));
    }
    return p_;
  }
  // Copies host values in (growing as needed) and returns the backend pointer.
  T* upload(const std::vector<T>& host) {
    reserve(host.size());
    be_->to_device(p_, host.data(), host.size() * sizeof(T));
    return p_;
  }
  // Like upload, but the copy joins `uploads` (sent by Backend::to_device_many); host must
  // stay as it is until then.
  T* stage(const std::vector<T>& host, std::vector<HostUpload>& uploads) {
    reserve(host.size());
    if (!host.empty()) uploads.push_back({p_, host.data(), host.size() * sizeof(T)});
    return p_;
  }
  T* data() const { return p_; }

 private:
  Backend* be_;
  T* p_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace sluice
