#pragma once
// Plain scalar reference implementations of every Backend op. They define the semantics; the
// fast CPU kernels (and any other backend) are tested against them on random data.
#include <cstdint>

#include "backend/backend.h"
#include "backend/quant_blocks.h"

namespace sluice::ref {

// Dequantized weights, f32 activations, double accumulation. y[n, w.rows].
void matmul(const float* x, int64_t n, const Weight& w, float* y);

// Activation quantization of one row of `cols` (cols % 32 == 0) into cols/32 int16 blocks:
//   d = max|x| / 32767, q = round_half_even(x * (1/d)) (q = 0 when d == 0),
//   sum[h] = d * sum(q half h).
void quantize_act_row(const float* x, int64_t cols, BlockAct16* out);

// The reference for quantized weights: exact integer block dots on already quantized int16
// activations xq[n, w.cols/32]; per block  d_w*d_x*sum(code*q) + offset*sum[g].
void matmul_act16(const BlockAct16* xq, int64_t n, const Weight& w, float* y);

// int8 activations (Q4G32 and Q8G32 weights): d = max|x| / 127, q = round_half_even(x * (1/d)),
// sum = d * sum(q); per block  d_w*d_x*sum(code*q) + offset*sum, double accumulation.
void quantize_act8_row(const float* x, int64_t cols, BlockAct8* out);
void matmul_act8(const BlockAct8* xq, int64_t n, const Weight& w, float* y);

void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out);
void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps, float* y);
// Angle of pair i at position pos: float(pos) * inv_freq[i] (float), cos/sin in float.
void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
          const RopeParams& p);
void silu_mul(const float* gate, const float* up, int64_t count, float* out);
// gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))), in double.
void gelu_mul(const float* gate, const float* up, int64_t count, float* out);
void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                    float* out);
void scale(float* x, int64_t count, float s);
void add(float* x, const float* y, int64_t count);
void add_bias(float* x, int64_t n, int64_t dim, const float* bias);
void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim, float* out);
void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                 const KvLayerView& cache);
// Assembles each sequence's K/V contiguously from its block table, then plain two-pass softmax.
void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, float scale, float* out);

// Encoder ops by the definitions in backend.h, double accumulation.
void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                float eps, float* y);
void gelu_erf(const float* x, int64_t count, float* out);
void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                             int64_t head_dim, const SequenceBatch& batch, float scale, float* out);
void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode, float* out);
void l2_normalize(float* x, int64_t n, int64_t dim);

// Vision ops by the definitions in backend.h (vision_ref.cc), double arithmetic.
void gelu_tanh(const float* x, int64_t count, float* out);
void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                 float* out);

// Recurrent ops by the definitions in backend.h (recurrent_ref.cc): double arithmetic within a
// token, the delta rule's state rounded to float after each token; sequences of 0 rows are skipped.
void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                        float* state, const RecurrentBatch& batch, float* out);
void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                      const float* dt_bias, const DeltaNetShape& shape, float* state,
                      const RecurrentBatch& batch, float* out);
void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim);

// Mixture of experts by the definitions in backend.h (double sums; ranks by a full sort).
void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
               bool renormalize, int32_t* ids, float* weights);
void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                    int64_t num_experts, const int32_t* ids, int64_t k, float* y);
void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                 float* out, bool accumulate);

// The index of the first largest of x[n]; NaN never wins; 0 when all are -inf or NaN.
int32_t argmax(const float* x, int64_t n);
// Backend::sample_rows by the definition: edit the row, rank it by a full sort, cut top-k and
// top-p (double sums), keep min-p, walk the kept mass in token id order (sample_rows_ref.cc).
void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows, RowSampled* out);

// inv_freq[i] = theta^(-2i/rotary_dim), used when RopeParams::inv_freq is null.
void default_inv_freq(const RopeParams& p, float* inv_freq);

}  // namespace sluice::ref
