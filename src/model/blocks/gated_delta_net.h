#pragma once
// A gated delta-net block (the linear attention of Qwen3.5 / Qwen3-Next), added to the residual
// stream; its state (conv inputs and the delta rule's S per value head) lives in a StateStorage
// slot per sequence:
//   qkv, z, b, a = norm(x) . Wqkv/Wz/Wb/Wa^T
//   qkv = silu(causal_conv1d(qkv))                 (kernel taps over the previous rows)
//   o = gated_delta_rule(q, k, v, a, b)            (Backend::gated_delta_rule)
//   x += (rms_norm(o) * silu(z)) . Wout^T          (the norm per value head)
#include "model/blocks/residual.h"
#include "model/forward_context.h"
#include "model/state_storage.h"

namespace sluice::blocks {

struct DeltaNetWeights {
  const Weight *qkv, *z, *b, *a, *out;
  const float* conv;     // [C, kernel]
  const float* a_neg;    // [Hv]
  const float* dt_bias;  // [Hv]
  const float* norm;     // [dv]
};

DeltaNetWeights delta_net_weights(const PlacedLayer& L);
DeltaNetShape delta_net_shape(const ModelConfig& c);

// norm: this block's input norm; next_norm: the norm after it (Residual::add_product).
void gated_delta_net(const ForwardContext& f, Residual& r, const float* norm,
                     const DeltaNetWeights& w, const RecurrentLayerView& state,
                     const float* next_norm);

}  // namespace sluice::blocks
