#pragma once
// GPU time per op for SLUICE_PROFILE (common/profile.h): an event pair around each op on the
// stream; the pairs are read after the stream has been waited on (collect), so timing adds no
// synchronization of its own. Does nothing when profiling is off.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "common/assert.h"
#include "common/profile.h"

namespace sluice::cuda {

class OpTimer {
 public:
  explicit OpTimer(cudaStream_t stream) : stream_(stream), on_(profile::enabled()) {}
  ~OpTimer() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }

  // Times the ops launched until the returned scope ends under `key`.
  class Scope {
   public:
    Scope(OpTimer* t, std::string key) : t_(t) {
      if (t_) index_ = t_->begin(std::move(key));
    }
    ~Scope() {
      if (t_) t_->end(index_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OpTimer* t_;
    size_t index_ = 0;
  };
  // Key: profile::op_key.
  Scope scope(const char* op, int64_t n, const char* detail = "") {
    if (!on_) return Scope(nullptr, {});
    return Scope(this, profile::op_key(op, n, detail));
  }

  // After the stream was synchronized: adds every finished pair to the profile (no scope may be
  // open: its end event is not recorded yet).
  void collect() {
    SLUICE_ASSERT(open_ == 0, "an op timer scope spans a stream synchronization");
    for (size_t i = 0; i < keys_.size(); ++i) {
      float ms = 0.0f;
      SLUICE_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[2 * i], events_[2 * i + 1]));
      profile::add(keys_[i], ms * 1e-3);
    }
    keys_.clear();
  }

 private:
  cudaEvent_t event(size_t i) {
    while (events_.size() <= i) {
      cudaEvent_t e;
      SLUICE_CUDA_CHECK(cudaEventCreate(&e));
      events_.push_back(e);
    }
    return events_[i];
  }
  size_t begin(std::string key) {
    const size_t i = keys_.size();
    event(2 * i + 1);  // both events exist before either is recorded
    SLUICE_CUDA_CHECK(cudaEventRecord(events_[2 * i], stream_));
    keys_.push_back(std::move(key));
    ++open_;
    return i;
  }
  void end(size_t i) {
    SLUICE_CUDA_CHECK(cudaEventRecord(events_[2 * i + 1], stream_));
    --open_;
  }

  cudaStream_t stream_;
  bool on_;
  std::vector<cudaEvent_t> events_;  // 2 per key: start, end
  std::vector<std::string> keys_;    // pending, in launch order
  int open_ = 0;                     // scopes begun, not yet ended
};

}  // namespace sluice::cuda
