#pragma once
// Runs one sequence through the model with a private paged KV cache (block table 0..N-1).
// A stand-in for the engine (a later layer) so `run` and `logits` work on their own.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/backend.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "model/model_runner.h"

namespace sluice {

class SingleSequence {
 public:
  SingleSequence(const Model& model, Backend& backend, int64_t max_tokens, int64_t block_size = 16);
  // Appends tokens and returns the logits of the last one: [vocab], valid until the next call.
  // M-RoPE models may give the tokens' rope positions [4, n] and rows spliced in for images
  // (ForwardBatch::rope_positions, splices).
  std::span<const float> feed(const std::vector<int32_t>& tokens,
                              std::vector<int32_t> rope_positions = {},
                              std::vector<EmbeddingSplice> splices = {});
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }

 private:
  ModelRunner runner_;
  int64_t block_size_, capacity_, length_ = 0;
  std::unique_ptr<KvStorage> kv_;
  int64_t vocab_;
};

}  // namespace sluice
