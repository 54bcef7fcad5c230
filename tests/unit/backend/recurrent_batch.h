#pragma once
// Test batches for the recurrent ops: sequences of given lengths, each in a state slot, fresh or
// carrying the slot's state, as a RecurrentBatch in a backend's memory.
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend_buffers.h"

namespace sluice::testing {

struct RecurrentSeqs {
  std::vector<int32_t> query_start{0}, slots, fresh;
  RecurrentSeqs(const std::vector<int32_t>& lens, std::vector<int32_t> slot_ids,
                std::vector<int32_t> fresh_flags)
      : slots(std::move(slot_ids)), fresh(std::move(fresh_flags)) {
    for (int32_t l : lens) query_start.push_back(query_start.back() + l);
  }
  int64_t num_tokens() const { return query_start.back(); }
  RecurrentBatch on(BackendBuffers& b) const {
    RecurrentBatch rb;
    rb.num_seqs = static_cast<int64_t>(slots.size());
    rb.num_tokens = num_tokens();
    rb.query_start = b.up(query_start);
    rb.host_query_start = query_start.data();
    rb.state_slots = b.up(slots);
    rb.fresh = b.up(fresh);
    return rb;
  }
};

}  // namespace sluice::testing
