#include "cli/single_sequence.h"

#include "common/assert.h"

namespace sluice {

SingleSequence::SingleSequence(const Model& model, Backend& backend, int64_t max_tokens,
                               int64_t block_size)
    : runner_(model, backend), block_size_(block_size) {
  const ModelConfig& c = model.config();
  const int64_t num_blocks = (max_tokens + block_size - 1) / block_size;
  capacity_ = num_blocks * block_size;
  kv_ = std::make_unique<KvStorage>(backend, KvLayout::of(c, false), num_blocks, block_size,
                                    c.num_kv_heads, c.head_dim);
  if (c.hybrid()) kv_->attach_state(std::make_unique<StateStorage>(backend, c, 1));
  vocab_ = c.vocab_size;
}

std::span<const float> SingleSequence::feed(const std::vector<int32_t>& tokens,
                                            std::vector<int32_t> rope_positions,
                                            std::vector<EmbeddingSplice> splices) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  SLUICE_ASSERT(n > 0 && length_ + n <= capacity_, "sequence exceeds its KV capacity");
  ForwardBatch b;
  b.tokens = tokens;
  b.query_start = {0, static_cast<int32_t>(n)};
  b.max_blocks_per_seq = kv_->num_blocks();
  for (int32_t i = 0; i < b.max_blocks_per_seq; ++i) b.block_tables.push_back(i);
  for (int64_t i = 0; i < n; ++i) {
    b.positions.push_back(static_cast<int32_t>(length_ + i));
    b.slot_mapping.push_back(static_cast<int32_t>(length_ + i));  // block i/bs, offset i%bs
  }
  b.logit_rows = {static_cast<int32_t>(n - 1)};
  b.rope_positions = std::move(rope_positions);
  b.splices = std::move(splices);
  if (kv_->state()) b.state_slots = {0}, b.state_fresh = {length_ == 0 ? 1 : 0};
  runner_.run(b, *kv_);
  length_ += n;
  return {runner_.host_logits(), static_cast<size_t>(vocab_)};
}

}  // namespace sluice
