#pragma once
// Runs a Model on one Backend: the weights placed in the backend's memory (zero copy on the
// CPU), reusable activation buffers, and the forward pass over a flattened batch.
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace sluice {

class ModelRunner {
 public:
  ModelRunner(const Model& model, Backend& be);
  // logits: host [batch.logit_rows.size(), vocab_size]. Calls must not overlap.
  void forward(const ForwardBatch& batch, KvStorage& kv, float* logits);
  // Runs throw-away batches (1 and 32 tokens, KV written to the null block 0) so that lazy
  // module loading and library set-up happen before the first request (device backends).
  void warm_up(KvStorage& kv);
  Backend& backend() const { return be_; }
  const Model& model() const { return model_; }

 private:
  struct Layer {
    Weight attn_norm, ffn_norm, q_norm, k_norm, q_bias, k_bias, v_bias;  // F32 [1, n]
    Weight wq, wk, wv, wo, w_gate, w_up, w_down;
  };
  Weight place_vector(const std::vector<float>& v);

  const Model& model_;
  Backend& be_;
  Weight embed_, lm_head_, final_norm_, inv_freq_;
  std::vector<Layer> layers_;
  // Activations (see forward for shapes) and the batch's index arrays, in backend memory.
  DeviceArray<float> x_, h_, q_, k_, v_, attn_, gate_, up_, last_, logits_;
  DeviceArray<int32_t> tokens_, positions_, query_start_, block_tables_, slot_mapping_, rows_;
};

}  // namespace sluice
