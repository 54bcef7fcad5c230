#pragma once
// The blocks of a post-norm (BERT-style) encoder layer over whole sequences:
//   x = layer_norm(x + attention(x)) ; x = layer_norm(x + down(gelu(up(x))))
// and the sentence vector at the end: pooled rows, L2-normalized where the model asks.
#include "model/encoder_context.h"

namespace sluice::blocks {

// x[n, hidden] = layer_norm(x + y) with the norm's weight and bias ([1, hidden] each).
void add_layer_norm(const EncoderContext& f, float* x, const float* y, const Weight& w,
                    const Weight& b);
// s.h = (bidirectional attention over each sequence of (x Wq + bq, x Wk + bk, x Wv + bv)) Wo + bo
void bidirectional_self_attention(const EncoderContext& f, const EncoderLayerWeights& L);
// s.h = gelu_erf(x W_up + b_up) W_down + b_down
void gelu_mlp(const EncoderContext& f, const EncoderLayerWeights& L);
// s.pooled = the sequences' pooled rows of s.x, L2-normalized when config.normalize.
void pool(const EncoderContext& f);

}  // namespace sluice::blocks
