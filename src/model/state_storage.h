#pragma once
// Backing memory of the recurrent layers' states (gated delta-net), f32 in the backend's memory:
// per recurrent layer a conv state [num_slots, kernel-1, C] (the last inputs of the causal conv)
// and a delta-rule state [num_slots, Hv, dk, dv]. Which sequence owns which slot, and which
// slots hold prefix snapshots, is decided above (kv/StatePool); this only owns the memory.
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "model/model_config.h"

namespace sluice {

struct RecurrentLayerView {
  float* conv = nullptr;  // [num_slots, kernel-1, C]
  float* ssm = nullptr;   // [num_slots, Hv, dk, dv]
};

class StateStorage {
 public:
  StateStorage(Backend& be, const ModelConfig& c, int64_t num_slots);
  ~StateStorage();
  StateStorage(const StateStorage&) = delete;
  StateStorage& operator=(const StateStorage&) = delete;
  // num_slots slots plus one scratch slot that padded rows of recorded steps write.
  int32_t scratch_slot() const { return static_cast<int32_t>(num_slots_); }
  // Model layer i's state tensors (i must be a recurrent layer).
  RecurrentLayerView layer(int64_t i) const;
  // Copies slot src's state into slot dst in every recurrent layer (snapshots, restores, forks).
  void copy_slot(int32_t src, int32_t dst);
  int64_t num_slots() const { return num_slots_; }
  // Bytes of one slot over all recurrent layers.
  static int64_t bytes_per_slot(const ModelConfig& c);

 private:
  Backend& be_;
  int64_t num_slots_;
  int64_t conv_floats_ = 0, ssm_floats_ = 0;  // per slot and layer
  std::vector<int32_t> layer_index_;          // [num_layers]: index into conv_/ssm_, or -1
  std::vector<float*> conv_, ssm_;            // per recurrent layer
};

}  // namespace sluice
