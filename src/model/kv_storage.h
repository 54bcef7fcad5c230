#pragma once
// Backing memory of the paged KV cache: K and V pages [num_blocks, block_size, num_kv_heads,
// head_dim] of the backend's KV dtype, one tensor per page of a block (KvLayout: each layer uses
// one of them, through its group's block table). Which block belongs to which sequence is decided
// above (block tables); this only owns the memory, which lives in the backend's memory (device
// memory on GPU backends).
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/kv_layout.h"
#include "model/state_storage.h"

namespace sluice {

class KvStorage {
 public:
  KvStorage(Backend& be, KvLayout layout, int64_t num_blocks, int64_t block_size,
            int64_t num_kv_heads, int64_t head_dim);
  ~KvStorage();
  KvStorage(const KvStorage&) = delete;
  KvStorage& operator=(const KvStorage&) = delete;
  // Layer i's page tensors, group and (for a sliding group) window.
  KvLayerView layer(int64_t i);
  // Copies block src's K and V rows into block dst in every page (copy-on-write for n > 1).
  void copy_block(int32_t src, int32_t dst);
  // Hybrid models: the recurrent layers' states, kept beside the paged KV (null otherwise).
  void attach_state(std::unique_ptr<StateStorage> state) { state_ = std::move(state); }
  StateStorage* state() const { return state_.get(); }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  const KvLayout& layout() const { return layout_; }
  static int64_t bytes_per_block(int64_t pages_per_block, int64_t block_size, int64_t num_kv_heads,
                                 int64_t head_dim, KvDtype dtype = KvDtype::F32) {
    return 2 * pages_per_block * block_size * num_kv_heads * head_dim * kv_dtype_bytes(dtype);
  }

 private:
  Backend& be_;
  KvLayout layout_;
  int64_t num_blocks_, block_size_, num_kv_heads_, head_dim_;
  KvDtype dtype_;
  std::vector<uint8_t*> k_, v_;  // per page [num_blocks, block_size, num_kv_heads, head_dim]
  size_t block_bytes_ = 0;       // one page's K (or V) of one block
  std::unique_ptr<StateStorage> state_;
};

}  // namespace sluice
