#pragma once
// One sequence the scheduler moves between waiting and running: its tokens (prompt + output),
// how many of them are in the KV cache, and its prefix-cache block hashes.
#include <cstdint>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "kv/state_pool.h"

namespace sluice {

enum class SequenceStatus { kWaiting, kRunning, kFinished };

struct Sequence {
  kv::RequestId id = 0;         // unique per sequence (the KV manager's key)
  std::vector<int32_t> tokens;  // [num_prompt_tokens + outputs]
  int32_t num_prompt_tokens = 0;
  int32_t num_computed = 0;                 // tokens whose K/V are in the cache
  std::vector<kv::BlockHash> block_hashes;  // of the full blocks of `tokens`
  kv::BlockHash root_hash = 0;              // hash chain seed (cache salt)
  std::vector<kv::MediaKey> media;          // the prompt's images, sorted (they join block hashes)
  kv::StateSlot state_slot = -1;            // live recurrent-state slot while running (-1: none)
  SequenceStatus status = SequenceStatus::kWaiting;
  int32_t num_cached_tokens = -1;  // prefix-cache hit at first schedule (-1: not yet scheduled)
  int32_t num_preemptions = 0;
  int64_t num_computed_total = 0;  // all tokens computed for it, recomputation included
  void* owner = nullptr;           // the engine's per-request record

  int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
  int32_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
};

}  // namespace sluice
