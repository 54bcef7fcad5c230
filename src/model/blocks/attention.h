#pragma once
// Causal self-attention over the paged KV cache (GQA, RoPE, optional q/k/v biases and per-head
// q/k RMSNorm), added to the residual stream:
//   q, k, v = norm(x) . Wq/Wk/Wv^T (+ bias) ; q, k = rope(qk_norm(q, k)) ; cache <- k, v
//   x += (paged_attention(q, cache) [* sigmoid(gate)]) . Wo^T
#include "model/blocks/residual.h"
#include "model/forward_context.h"

namespace sluice::blocks {

struct AttentionWeights {
  const Weight *wq, *wk, *wv, *wo;
  const float *q_bias = nullptr, *k_bias = nullptr, *v_bias = nullptr;  // null: no bias
  const float *q_norm = nullptr, *k_norm = nullptr;  // [head_dim]; null: no q/k norm
  // [heads*hd, hidden]: an output gate, attn *= sigmoid(norm(x) . Wgate^T) (Qwen3.5); null: none.
  const Weight* wq_gate = nullptr;
};

// The layer's attention weights as placed (absent biases / norms stay null).
AttentionWeights attention_weights(const PlacedLayer& L);

// Where a layer departs from the model-wide RoPE and 1/sqrt(head_dim) scale (Gemma 3's local
// layers); the sliding window itself is the cache view's.
struct AttentionOptions {
  const float* inv_freq = nullptr;  // [head_dim/2]; null: the model's
  float theta = 0.0f;               // with inv_freq
  float scale = 0.0f;               // 0: 1/sqrt(head_dim)
};

// Everything before the output projection: s.attn [n, heads, hd] = paged_attention(q, cache),
// with q, k, v from norm(x), their biases, q/k norms and RoPE, and k, v written to the cache.
void attend(const ForwardContext& f, Residual& r, const float* norm, const AttentionWeights& w,
            const KvLayerView& cache, const AttentionOptions& o = {});

// attend, then x += s.attn . Wo^T (gated where w.wq_gate is set). norm: this block's input norm;
// next_norm: the norm after it (Residual::add_product).
void attention(const ForwardContext& f, Residual& r, const float* norm, const AttentionWeights& w,
               const KvLayerView& cache, const float* next_norm);

}  // namespace sluice::blocks
