#pragma once
// Runs an EncoderModel on one Backend: the weights placed once, activation buffers reused, one
// forward per batch of whole sequences (the architecture's, EncoderArchSpec::forward).
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "model/encoder_context.h"
#include "model/encoder_model.h"

namespace sluice {

// One input sequence: token ids (special tokens included) and their token type ids (empty: 0).
struct EncoderSequence {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
};

class EncoderRunner {
 public:
  EncoderRunner(const EncoderModel& model, Backend& be);
  // [seqs.size(), config.output_dim()] on the host: each sequence's vector (a classifier's
  // scores for a cross-encoder). Every sequence must be non-empty,
  // at most max_position_embeddings long, with ids below vocab_size (checked: abort otherwise).
  std::vector<float> embed(const std::vector<const EncoderSequence*>& seqs);
  const EncoderModel& model() const { return model_; }

 private:
  const EncoderModel& model_;
  Backend& be_;
  EncoderWeights w_;  // placed
  DeviceArray<float> x_, h_, q_, k_, v_, attn_, inter_, pooled_;
  DeviceArray<int32_t> tokens_, positions_, type_ids_, query_start_;
};

}  // namespace sluice
