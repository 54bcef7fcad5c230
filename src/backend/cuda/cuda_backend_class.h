#pragma once
// The CUDA backend's class (make_cuda_backend gives it out): device memory, one stream, cuBLAS
// for large products, the op kernels in kernels/. Its members are defined by concern:
// cuda_backend.cu (memory, recording, element-wise ops), matmul_dispatch.cu,
// attention_dispatch.cu, recurrent_dispatch.cu and sampling_dispatch.cu. Deterministic mode routes
// every product through the batch-invariant kernel.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "backend/backend.h"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/op_timer.h"
#include "backend/cuda/scratch.h"
#include "backend/cuda/tuning.h"

namespace sluice::cuda {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  ~CudaBackend() override;

  std::string name() const override { return name_; }
  bool batch_invariant() const override { return invariant_; }
  bool set_batch_invariant(bool on) override {
    invariant_ = on;
    return true;
  }

  // ---- memory (cuda_backend.cu) ----
  bool host_resident() const override { return false; }
  void* alloc(size_t bytes) override;
  void release(void* p) override;
  void to_device(void* dst, const void* src, size_t bytes) override;
  void to_device_many(std::span<const HostUpload> uploads) override;
  void to_host(void* dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void* alloc_host(size_t bytes) override;
  void release_host(void* p) override;
  Weight place(const Weight& w) override;
  KvDtype kv_dtype() const override { return KvDtype::F16; }
  size_t free_memory() const override;
  size_t total_memory() const override;

  // ---- recording: CUDA graphs (cuda_backend.cu) ----
  bool can_record() const override;
  void begin_recording() override;
  std::unique_ptr<Recording> end_recording() override;

  // ---- matrix products (matmul_dispatch.cu) ----
  void matmul(const float* x, int64_t n, const Weight& w, float* y) override;
  void matmul_many(const float* x, int64_t n, const Product* products, int count) override;
  bool folds_norms(int64_t n, const Weight& w) const override;
  void matmul_many_normed(const float* x, int64_t n, const float* norm, float eps, float* h,
                          const Product* products, int count) override;
  void matmul_add(const float* x, int64_t n, const Weight& w, const float* bias, float* y,
                  float* h) override;
  void matmul_add_gated(float* gate, const float* up, int64_t n, const Weight& w, float* y,
                        float* h) override;

  // ---- mixture of experts (moe_dispatch.cu) ----
  std::vector<Weight> place_experts(const Weight& stacked, int64_t num_experts) override;
  bool experts_on_device(const Weight& expert) const override;
  void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
                 bool renormalize, int32_t* ids, float* weights) override;
  void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                      int64_t num_experts, const int32_t* ids, int64_t k, float* y) override;
  void matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                           int64_t num_experts, const int32_t* ids, int64_t k,
                           float* scratch) override;
  void matmul_experts_many_normed(const float* x, int64_t n, const float* norm, float eps, float* h,
                                  const ExpertProduct* ps, int count, int64_t num_experts,
                                  const int32_t* ids, int64_t k, float* scratch) override;
  void route_experts_many_normed(const Routing& r, const float* x, int64_t n, const float* norm,
                                 float eps, float* h, const ExpertProduct* ps, int count,
                                 int64_t num_experts, int64_t k, float* scratch) override;
  void matmul_experts_glu(float* gate, const float* up, const Glu& glu, int64_t n,
                          const ExpertProduct& p, int64_t num_experts, const int32_t* ids,
                          int64_t k, float* scratch) override;
  void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                   float* out, bool accumulate) override;

  // ---- element-wise ops, norms, gathers, the KV cache (cuda_backend.cu) ----
  void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) override;
  void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                float* y) override;
  void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
            const RopeParams& p) override;
  void silu_mul(const float* gate, const float* up, int64_t count, float* out) override;
  void gelu_mul(const float* gate, const float* up, int64_t count, float* out) override;
  void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                      float* out) override;
  void scale(float* x, int64_t count, float s) override;
  void add(float* x, const float* y, int64_t count) override;
  void add_rms_norm(float* x, const float* r, int64_t n, int64_t dim, const float* weight,
                    float eps, float* y) override;
  void add_normed_rms_norm(float* x, float* r, const float* r_weight, int64_t n, int64_t dim,
                           const float* weight, float eps, float* y) override;
  void prepare_qkv(const QkvInputs& in, const KvLayerView& cache) override;
  void add_bias(float* x, int64_t n, int64_t dim, const float* bias) override;
  void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                   float* out) override;
  void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) override;
  void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                   const KvLayerView& cache) override;

  // ---- encoder ops (encoder_dispatch.cu) ----
  void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                  float eps, float* y) override;
  void gelu_erf(const float* x, int64_t count, float* out) override;
  void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                               int64_t head_dim, const SequenceBatch& batch, float scale,
                               float* out) override;
  void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode,
                 float* out) override;
  void l2_normalize(float* x, int64_t n, int64_t dim) override;

  // ---- vision ops (vision_dispatch.cu) ----
  void gelu_tanh(const float* x, int64_t count, float* out) override;
  void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                   float* out) override;

  // ---- recurrent ops (recurrent_dispatch.cu) ----
  void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                          float* state, const RecurrentBatch& batch, float* out) override;
  void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                        const float* dt_bias, const DeltaNetShape& shape, float* state,
                        const RecurrentBatch& batch, float* out) override;
  void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim) override;

  // ---- sampling (sampling_dispatch.cu) ----
  bool samples_rows() const override { return tuning_.sampling; }
  void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                   RowSampled* out) override;

  // ---- attention (attention_dispatch.cu) ----
  void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                       const AttentionBatch& batch, float scale, float* out) override;

 private:
  // Whether n activation rows of a product with w go to the weight-streaming kernel.
  bool streams_rows(int64_t n, const Weight& w) const;
  // y[n, rows] = x[n, cols] . W^T through cuBLAS on tensor cores (matmul_dispatch.cu).
  void gemm(const float* x, int64_t n, const Weight& w, float* y);
  // Quantized weights of one column count on tensor cores without an f16 copy of the weight.
  void fused_qgemm(const float* x, int64_t n, const Product* ps, int count);
  // The weight-streaming products, with the scratch their quantized activations need.
  void rows_products(const float* x, int64_t n, const RowsProduct* ps, int count,
                     const RowsMode& mode = {});
  // The MoE products on this backend's kernels (moe_dispatch.cu): experts placed by
  // place_experts in a supported format (else count 0), and the launch over them.
  ExpertWeights device_experts(const Weight* experts, int64_t num_experts) const;
  bool device_products(const ExpertProduct* ps, int count, int64_t num_experts,
                       ExpertOutput* outs) const;
  void run_experts(const float* x, bool x_per_slot, const RowsMode& mode, int64_t n,
                   const ExpertOutput* ps, int count, const int32_t* ids, int64_t k);
  // Large batches (prefill, many sequences): the expert GEMM's tensor-core tiles.
  bool experts_by_gemm(int64_t n, int64_t k, const ExpertWeights& w) const;
  // The attention split of a batch, on the device: planned and uploaded once per batch id
  // (every layer of a forward), and on every call for batches without one.
  struct Plan {
    const AttentionTile* tiles = nullptr;
    int64_t num_tiles = 0;
    int64_t pieces = 1;  // > 1: split_tiled_attention
    TokenSubset others;
  };
  const Plan& attention_plan(const AttentionBatch& b, int64_t num_heads, int64_t group,
                             int64_t head_dim);
  void ensure_split_scratch();

  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  const CudaTuning tuning_;
  const QgemmOptions qgemm_;  // tuning_'s fused-GEMM switches, wgmma where the GPU has it
  bool invariant_ = false;
  std::unique_ptr<OpTimer> timer_;                   // SLUICE_PROFILE: GPU time per op
  DeviceScratch<uint16_t> wf16_{stream_};            // [rows, cols] dequantized weight (GEMM)
  DeviceScratch<uint16_t> x16_{stream_};             // [n, cols] activations in 16 bits
  DeviceScratch<uint8_t> qgemm_scratch_{stream_};    // qgemm: split-K partial sums
  DeviceScratch<uint8_t> rows_scratch_{stream_};     // matmul_rows: quantized activations
  DeviceScratch<uint8_t> experts_scratch_{stream_};  // matmul_experts: activations, grouping
  DeviceScratch<float> attn_scratch_{stream_};       // split-K partial results of attention
  // Decode attention: the pieces' sums, and their tickets (fixed bounds, allocated once).
  DeviceScratch<float> decode_partials_{stream_};
  DeviceScratch<int32_t> decode_tickets_{stream_};
  // sample_rows: [specs | edits | masks] in, results out, the rows' staged values, and the
  // page-locked host buffer both copies go through.
  DeviceScratch<uint8_t> sample_in_{stream_};
  DeviceScratch<RowSampled> sample_out_{stream_};
  DeviceScratch<float> sample_staged_{stream_};
  PinnedScratch sample_host_;
  DeviceScratch<cuda::ArgmaxPartial> argmax_partials_{stream_};  // [rows, slices] (argmax_rows)
  // to_device_many's page-locked staging, and the event after the last kernel that read it.
  PinnedScratch upload_host_;
  cudaEvent_t upload_read_ = nullptr;
  PinnedScratch download_host_;  // to_host's page-locked staging
  // The last batch's attention plan (attention_plan), that batch's id, and the plan's buffers.
  Plan plan_;
  uint64_t plan_id_ = 0;
  int64_t plan_head_dim_ = 0;
  DeviceScratch<AttentionTile> plan_tiles_{stream_};
  DeviceScratch<int32_t> plan_tokens_{stream_};
};

}  // namespace sluice::cuda
