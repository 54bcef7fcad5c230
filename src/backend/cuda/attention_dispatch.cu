// Which attention kernel takes a batch: decode-only batches and prefill chunks go to the
// tensor-core tiles (planned on the host once per batch), the rest to the per-token kernel.
#include <algorithm>

#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"

namespace sluice::cuda {

void CudaBackend::paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                                  const AttentionBatch& batch, float scale, float* out) {
  float* scratch = attn_scratch_.grow(
      static_cast<size_t>(attention_scratch_floats(batch.num_tokens, num_heads, cache.head_dim)));
  // Decode-only batches (recorded steps too) and prefill chunks go to the tensor-core tiles;
  // batch-invariant mode keeps one kernel for every token (a token's result must not depend
  // on whether it shares a tile, or on how its context is split).
  if (tuning_.attention_tiles && tuning_.decode_tiles && !invariant_ &&
      batch.num_tokens == batch.num_seqs && tiled_attention_supported(cache.head_dim)) {
    ensure_split_scratch();
    auto t = timer_->scope("paged_attention", batch.num_tokens, "decode tiles");
    decode_attention(q, num_heads, cache, batch, scale, out, decode_partials_.get(),
                     decode_tickets_.get(), tuning_.decode_key_split, tuning_.decode_max_pieces,
                     tuning_.decode_cluster, stream_);
    return;
  }
  // Prefill chunks (and many decodes beside them) go to the tiles.
  if (tuning_.attention_tiles && !invariant_ && batch.host_query_start && batch.host_positions &&
      tiled_attention_supported(cache.head_dim)) {
    const Plan& plan =
        attention_plan(batch, num_heads, num_heads / cache.num_kv_heads, cache.head_dim);
    if (plan.num_tiles > 0 && plan.pieces > 1) {
      ensure_split_scratch();
      auto t = timer_->scope("paged_attention", batch.num_tokens, "split tiles");
      split_tiled_attention(q, num_heads, cache, batch, plan.tiles, plan.num_tiles, plan.pieces,
                            scale, out, decode_partials_.get(), decode_tickets_.get(),
                            tuning_.decode_cluster, stream_);
    } else if (plan.num_tiles > 0) {
      auto t = timer_->scope("paged_attention", batch.num_tokens, "tiles");
      tiled_attention(q, num_heads, cache, batch, plan.tiles, plan.num_tiles, scale, out,
                      tuning_.decode_key_split, stream_);
    }
    if (plan.others.num_tokens > 0) {
      auto t = timer_->scope("paged_attention", plan.others.num_tokens, "per token");
      cuda::paged_attention(q, num_heads, cache, batch, scale, out, scratch, false, stream_,
                            &plan.others);
    }
    return;
  }
  auto t = timer_->scope("paged_attention", batch.num_tokens,
                         batch.num_tokens == batch.num_seqs ? "decode" : "mixed");
  cuda::paged_attention(q, num_heads, cache, batch, scale, out, scratch, invariant_, stream_);
}

// The pieces' sums and tickets of decode_attention and split_tiled_attention (fixed bounds:
// allocated once, never grown).
void CudaBackend::ensure_split_scratch() {
  if (decode_tickets_.get() != nullptr) return;
  decode_partials_.grow(static_cast<size_t>(decode_partials_floats()));
  decode_tickets_.grow(static_cast<size_t>(cuda::decode_tickets()));
  SLUICE_CUDA_CHECK(cudaMemsetAsync(decode_tickets_.get(), 0,
                                    decode_tickets_.capacity() * sizeof(int32_t), stream_));
}

const CudaBackend::Plan& CudaBackend::attention_plan(const AttentionBatch& b, int64_t num_heads,
                                                     int64_t group, int64_t head_dim) {
  // A model has one head layout (head_dim 256 and 128 layers of one model would plan apart).
  if (b.id != 0 && b.id == plan_id_ && head_dim == plan_head_dim_) return plan_;
  plan_id_ = b.id, plan_head_dim_ = head_dim;
  const AttentionSplit split =
      plan_attention(b.host_query_start, b.host_positions, b.num_seqs, num_heads, group, head_dim,
                     tuning_.decode_key_split, tuning_.decode_max_pieces);
  plan_.num_tiles = static_cast<int64_t>(split.tiles.size());
  plan_.pieces = split.pieces;
  plan_.others.num_tokens = static_cast<int64_t>(split.other_tokens.size());
  plan_.others.max_context = split.other_max_context;
  // Pageable host -> device copies: the source may be reused once the call returns.
  AttentionTile* tiles = plan_tiles_.grow(std::max<size_t>(1, split.tiles.size()));
  int32_t* tokens = plan_tokens_.grow(std::max<size_t>(1, split.other_tokens.size()));
  to_device(tiles, split.tiles.data(), split.tiles.size() * sizeof(AttentionTile));
  to_device(tokens, split.other_tokens.data(), split.other_tokens.size() * sizeof(int32_t));
  plan_.tiles = tiles;
  plan_.others.tokens = tokens;
  return plan_;
}

}  // namespace sluice::cuda
