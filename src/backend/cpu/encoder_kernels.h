#pragma once
// CPU kernels of the encoder ops (backend.h): plain C++ with fixed per-row reduction orders
// (8 partial sums), so a row's result never depends on the rest of the batch.
#include <cstdint>

#include "backend/backend.h"

namespace sluice::cpu {

void layer_norm_rows(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                     float eps, float* y);
void gelu_erf_span(const float* x, int64_t count, float* out);
// Rows [t0, t1) of one sequence [b, e), head h: out = softmax(q k^T * scale) v over [b, e)
// (encoder_attention.cc, Highway). scratch: bidirectional_attention_scratch(max_len, head_dim)
// floats, max_len >= e - b.
void bidirectional_attention_rows(const float* q, const float* k, const float* v, int64_t row,
                                  int64_t head_dim, int64_t h, int64_t b, int64_t e, int64_t t0,
                                  int64_t t1, float scale, float* scratch, float* out);
int64_t bidirectional_attention_scratch(int64_t max_len, int64_t head_dim);
void pool_sequence(const float* x, int64_t dim, int64_t b, int64_t e, Pooling mode, float* out);
void l2_normalize_rows(float* x, int64_t n, int64_t dim);

}  // namespace sluice::cpu
