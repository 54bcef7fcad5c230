#pragma once
// Runs a Model on one Backend: the weights placed in the backend's memory (zero copy on the
// CPU), reusable activation buffers, and recorded decode steps. The forward pass itself is the
// architecture's (ArchSpec::forward, model/arch/).
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/device_array.h"
#include "model/forward_context.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace sluice {

class ModelRunner {
 public:
  ModelRunner(const Model& model, Backend& be);
  ~ModelRunner();
  // Runs the batch. Its logits [batch.logit_rows.size(), vocab_size] stay where the backend
  // keeps them until the next call, read by one of host_logits / greedy / sample. Calls must
  // not overlap.
  void run(const ForwardBatch& batch, KvStorage& kv);
  // The logits on the host (copied from device memory; in place on host backends).
  const float* host_logits();
  // picks[i] = argmax of row i (Backend::argmax_rows, where the logits are).
  void greedy(int32_t* picks);
  // Backend::sample_rows over the logits; only when samples_on_device().
  bool samples_on_device() const { return be_.samples_rows(); }
  void sample(std::span<const RowSampling> rows, RowSampled* out);
  // Logit rows of the last run.
  int64_t num_rows() const { return out_rows_; }
  // The last run's logit rows through the final norm, [num_rows, hidden], on the host: the
  // hidden states the vocabulary projection reads (last-token embeddings).
  void final_hidden(float* out);
  // Runs throw-away batches (1, 32 and max_tokens tokens, KV written to the null block 0) so
  // that lazy module loading, library set-up and buffer growth happen before the first request
  // (device backends); max_tokens: the largest step the engine schedules.
  void warm_up(KvStorage& kv, int32_t max_tokens);
  Backend& backend() const { return be_; }
  const Model& model() const { return model_; }

 private:
  // A recorded decode step, replayed while its buffers stay where they were when recorded.
  struct Replay {
    std::vector<const void*> buffers;  // what the recording points at
    std::unique_ptr<Recording> recording;
    bool failed = false;  // could not be recorded: runs op by op
  };
  Weight place_vector(const std::vector<float>& v);
  // Hybrid models: the gated delta-net, gated attention and shared expert weights; their buffers.
  void place_hybrid(const LayerWeights& L, PlacedLayer& P);
  void prepare_hybrid(const ForwardBatch& b, StepBuffers& s, std::vector<HostUpload>& uploads);
  StepBuffers prepare(const ForwardBatch& b);
  // Splices of deepstack rows: their first `hidden` floats to narrow host rows (s.splices),
  // their deepstack slices to backend memory (s.deepstack).
  void split_deepstack(const ForwardBatch& b, StepBuffers& s);
  // The architecture's forward pass over a prepared step.
  void issue(const StepBuffers& s, KvStorage& kv);
  // Decode steps of up to kMaxRecordedTokens sequences, padded to a bucket, replay a recording.
  bool recordable(const ForwardBatch& b) const;
  void run_recorded(const ForwardBatch& b, KvStorage& kv);

  const Model& model_;
  Backend& be_;
  ForwardFn forward_;
  PlacedWeights w_;
  // Activations (see forward for shapes) and the batch's index arrays, in backend memory.
  DeviceArray<float> x_, h_, q_, k_, v_, attn_, gate_, up_, last_, logits_, hidden_;
  DeviceArray<int32_t> tokens_, positions_, query_start_, block_tables_, slot_mapping_, rows_;
  DeviceArray<int32_t> rope_positions_;  // [4, n] M-RoPE models
  std::vector<int32_t> rope_host_;       // their host copy until the step's uploads go
  DeviceArray<int32_t> attend_until_;    // [n] images' attention ends (ForwardBatch::attend_until)
  DeviceArray<int32_t> argmax_;          // [m] greedy picks
  DeviceArray<float> router_, expert_w_, exp_gate_, exp_up_, exp_out_, moe_out_, exp_bias_;
  DeviceArray<int32_t> expert_ids_;
  DeviceArray<float> attn_gate_, lin_qkv_, lin_conv_, lin_z_, lin_b_, lin_a_, lin_core_;
  DeviceArray<int32_t> state_slots_, state_fresh_;
  std::vector<float> splice_rows_;               // [R, hidden] the step's narrow image rows
  std::vector<EmbeddingSplice> narrow_splices_;  // the step's splices over splice_rows_
  DeviceArray<float> deepstack_;                 // [D, R, hidden] (StepBuffers::deepstack)
  bool experts_on_device_ = true;         // every expert weight's MoE ops run without a host sync
  const float* out_logits_ = nullptr;     // [out_rows_, vocab] the last run's logits
  const float* out_x_ = nullptr;          // [tokens, hidden] the last run's residual stream
  const int32_t* out_row_ids_ = nullptr;  // [out_rows_] its logit rows (backend memory)
  int64_t out_rows_ = 0;
  float* host_logits_ = nullptr;  // [host_capacity_] page-locked copy (device backends)
  size_t host_capacity_ = 0;
  // Keyed by (padded tokens, padded block-table width).
  std::map<std::pair<int64_t, int64_t>, Replay> replays_;
};

}  // namespace sluice
