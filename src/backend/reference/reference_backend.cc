// The reference backend: every op is the plain scalar implementation of ref_ops.h.
#include "backend/backend.h"
#include "backend/reference/ref_ops.h"

namespace sluice {
namespace {

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "reference"; }
  // Fixed per-row reduction orders in every kernel (tests/unit/backend/batch_invariance_test.cc).
  bool batch_invariant() const override { return true; }
  void matmul(const float* x, int64_t n, const Weight& w, float* y) override {
    ref::matmul(x, n, w, y);
  }
  void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) override {
    ref::embedding(table, ids, n, out);
  }
  void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                float* y) override {
    ref::rms_norm(x, n, dim, weight, eps, y);
  }
  void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
            const RopeParams& p) override {
    ref::rope(x, n, num_heads, head_dim, positions, p);
  }
  void silu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    ref::silu_mul(gate, up, count, out);
  }
  void gelu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    ref::gelu_mul(gate, up, count, out);
  }
  void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                      float* out) override {
    ref::swiglu_clamped(gate, up, count, alpha, limit, out);
  }
  void scale(float* x, int64_t count, float s) override { ref::scale(x, count, s); }
  void add(float* x, const float* y, int64_t count) override { ref::add(x, y, count); }
  bool samples_rows() const override { return true; }
  void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                   RowSampled* out) override {
    ref::sample_rows(x, vocab, rows, out);
  }
  void add_bias(float* x, int64_t n, int64_t dim, const float* bias) override {
    ref::add_bias(x, n, dim, bias);
  }
  void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                   float* out) override {
    ref::gather_rows(x, rows, m, dim, out);
  }
  void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                   const KvLayerView& cache) override {
    ref::cache_write(k, v, n, slot_mapping, cache);
  }
  void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                       const AttentionBatch& batch, float scale, float* out) override {
    ref::paged_attention(q, num_heads, cache, batch, scale, out);
  }
  void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                  float eps, float* y) override {
    ref::layer_norm(x, n, dim, weight, bias, eps, y);
  }
  void gelu_erf(const float* x, int64_t count, float* out) override {
    ref::gelu_erf(x, count, out);
  }
  void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                               int64_t head_dim, const SequenceBatch& batch, float scale,
                               float* out) override {
    ref::bidirectional_attention(q, k, v, num_heads, head_dim, batch, scale, out);
  }
  void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode,
                 float* out) override {
    ref::pool_rows(x, dim, batch, mode, out);
  }
  void l2_normalize(float* x, int64_t n, int64_t dim) override { ref::l2_normalize(x, n, dim); }
  void gelu_tanh(const float* x, int64_t count, float* out) override {
    ref::gelu_tanh(x, count, out);
  }
  void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                   float* out) override {
    ref::avg_pool_2d(x, height, width, dim, kernel, out);
  }
  void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                          float* state, const RecurrentBatch& batch, float* out) override {
    ref::causal_conv1d_silu(x, channels, weight, kernel, state, batch, out);
  }
  void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                        const float* dt_bias, const DeltaNetShape& shape, float* state,
                        const RecurrentBatch& batch, float* out) override {
    ref::gated_delta_rule(qkv, a, b, a_neg, dt_bias, shape, state, batch, out);
  }
  void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim) override {
    ref::sigmoid_mul(x, gate, n, dim, gate_dim);
  }
  void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
                 bool renormalize, int32_t* ids, float* weights) override {
    ref::moe_route(logits, n, num_experts, k, mode, renormalize, ids, weights);
  }
  void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                      int64_t num_experts, const int32_t* ids, int64_t k, float* y) override {
    ref::matmul_experts(x, x_per_slot, n, experts, num_experts, ids, k, y);
  }
  void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                   float* out, bool accumulate) override {
    ref::moe_combine(y, weights, n, k, dim, out, accumulate);
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() {
  return std::make_unique<ReferenceBackend>();
}

}  // namespace sluice
