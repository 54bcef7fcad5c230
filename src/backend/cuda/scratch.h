#pragma once
// The CUDA backend's scratch memory: device buffers that grow on demand and a page-locked host
// buffer, each freed by its destructor. Growing does not keep the contents.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "common/assert.h"

namespace sluice::cuda {

// At least `count` elements of T in device memory, for work on `stream`. Growing waits for the
// stream (the old buffer may still be read) and is refused while the stream is being recorded.
template <typename T>
class DeviceScratch {
 public:
  explicit DeviceScratch(cudaStream_t stream) : stream_(stream) {}
  ~DeviceScratch() {
    if (p_) cudaFree(p_);
  }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;

  T* grow(size_t count) {
    if (count > cap_) {
      cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
      SLUICE_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capturing));
      SLUICE_ASSERT(capturing == cudaStreamCaptureStatusNone,
                    "a CUDA scratch buffer must grow while recording: run the ops once first");
      if (p_) {
        SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
        SLUICE_CUDA_CHECK(cudaFree(p_));
      }
      cap_ = count;
      SLUICE_CUDA_CHECK(cudaMalloc(&p_, cap_ * sizeof(T)));
    }
    return p_;
  }
  T* get() const { return p_; }
  size_t capacity() const { return cap_; }  // elements

 private:
  cudaStream_t stream_;
  T* p_ = nullptr;
  size_t cap_ = 0;
};

// Page-locked host memory of at least `bytes`; it grows to twice what is asked.
class PinnedScratch {
 public:
  PinnedScratch() = default;
  ~PinnedScratch() {
    if (p_) cudaFreeHost(p_);
  }
  PinnedScratch(const PinnedScratch&) = delete;
  PinnedScratch& operator=(const PinnedScratch&) = delete;

  uint8_t* grow(size_t bytes) {
    if (bytes > cap_) {
      if (p_) SLUICE_CUDA_CHECK(cudaFreeHost(p_));
      p_ = nullptr;
      cap_ = 2 * bytes;
      void* p = nullptr;
      SLUICE_CUDA_CHECK(cudaMallocHost(&p, cap_ > 0 ? cap_ : 1));
      p_ = static_cast<uint8_t*>(p);
    }
    return p_;
  }
  uint8_t* get() const { return p_; }

 private:
  uint8_t* p_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace sluice::cuda
