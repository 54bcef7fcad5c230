#pragma once
// Runs a Model on one Backend: the weights placed in the backend's memory (zero copy on the
// CPU), reusable activation buffers, and the forward pass over a flattened batch.
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace sluice {

class ModelRunner {
 public:
  ModelRunner(const Model& model, Backend& be);
  // logits: host [batch.logit_rows.size(), vocab_size]. Calls must not overlap. greedy: when
  // not null, host [logit_rows.size()] gets each row's argmax (Backend::argmax_rows, where the
  // logits are) instead, and `logits` is only scratch.
  void forward(const ForwardBatch& batch, KvStorage& kv, float* logits,
               int32_t* greedy = nullptr);
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
  // One batch in backend memory: index arrays uploaded, activation buffers sized.
  struct Step {
    int64_t n = 0, m = 0;  // tokens, logit rows
    const int32_t* tokens = nullptr;
    const int32_t* positions = nullptr;
    const int32_t* rows = nullptr;  // [m] logit rows
    AttentionBatch ab;
    float *x = nullptr, *h = nullptr, *q = nullptr, *k = nullptr, *v = nullptr;
    float *attn = nullptr, *gate = nullptr, *up = nullptr, *last = nullptr;
    float* logits = nullptr;  // [m, vocab] (device memory on device backends)
  };
  // A recorded decode step, replayed while its buffers stay where they were when recorded.
  struct Replay {
    std::vector<const void*> buffers;  // what the recording points at
    std::unique_ptr<Recording> recording;
    bool failed = false;  // could not be recorded: runs op by op
  };
  Weight place_vector(const std::vector<float>& v);
  Step prepare(const ForwardBatch& b, float* host_logits);
  void issue(const Step& s, KvStorage& kv);
  // Decode steps of up to kMaxRecordedTokens sequences, padded to a bucket, replay a recording.
  bool recordable(const ForwardBatch& b) const;
  void forward_recorded(const ForwardBatch& b, KvStorage& kv, float* logits, int32_t* greedy);
  // The step's logits [m, vocab] (or their argmax when greedy is not null) to the host.
  void logits_to_host(const float* dev, int64_t m, float* logits, int32_t* greedy);

  const Model& model_;
  Backend& be_;
  Weight embed_, lm_head_, final_norm_, inv_freq_;
  std::vector<Layer> layers_;
  // Activations (see forward for shapes) and the batch's index arrays, in backend memory.
  DeviceArray<float> x_, h_, q_, k_, v_, attn_, gate_, up_, last_, logits_;
  DeviceArray<int32_t> tokens_, positions_, query_start_, block_tables_, slot_mapping_, rows_;
  DeviceArray<int32_t> argmax_;  // [m] greedy picks
  // Keyed by (padded tokens, padded block-table width).
  std::map<std::pair<int64_t, int64_t>, Replay> replays_;
};

}  // namespace sluice
