#pragma once
// CPU kernels of the encoder ops (backend.h): plain C++ with fixed per-row reduction orders
// (8 partial sums), so a row's result never depends on the rest of the batch.
#include <cstdint>

#include "backend/backend.h"

namespace sluice::cpu {

void layer_norm_rows(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                     float eps, float* y);
void gelu_erf_span(const float* x, int64_t count, float* out);
// Bidirectional attention of one (sequence, head) (encoder_attention.cc, Highway), in two steps:
// its K and V laid out once into `head` (layout.floats floats: K^T in blocks of keys, then V
// [len, hd_pad], zero-padded), then up to kMaxAttentionRows rows [t0, t1) of the sequence [b, e):
// out = softmax(q k^T * scale) v, with `scratch` of layout.scratch floats per thread.
constexpr int64_t kMaxAttentionRows = 32;
struct BidirectionalHeadLayout {
  int64_t len_pad = 0, hd_pad = 0, floats = 0, scratch = 0;
};
BidirectionalHeadLayout bidirectional_head_layout(int64_t len, int64_t head_dim);
void bidirectional_attention_prepare(const float* k, const float* v, int64_t row, int64_t head_dim,
                                     int64_t h, int64_t b, int64_t e, float* head);
void bidirectional_attention_rows(const float* q, int64_t row, int64_t head_dim, int64_t h,
                                  int64_t b, int64_t e, int64_t t0, int64_t t1, float scale,
                                  const float* head, float* scratch, float* out);
void pool_sequence(const float* x, int64_t dim, int64_t b, int64_t e, Pooling mode, float* out);
void l2_normalize_rows(float* x, int64_t n, int64_t dim);

}  // namespace sluice::cpu
