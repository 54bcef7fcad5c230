#pragma once
// Launchers of the CUDA kernels (all asynchronous on `stream`; pointers are device memory).
// Semantics are those of the reference ops (backend/reference/ref_ops.h).
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace sluice::cuda {

int sm_count();  // multiprocessors of the current device (device_info.cu)
int device_attribute(cudaDeviceAttr attr);  // of the current device, read now

// Element-wise ops, norms, rope, embedding, gathers and KV-cache writes (kernels_elementwise.cu).
void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out, cudaStream_t s);
// A quantized weight uploaded in its block layout (quant_blocks.h) -> out, the same bytes in the
// planar layout that the matmul and embedding kernels read (dequant.cuh).
void to_planar(const Weight& w, uint8_t* out, cudaStream_t s);
void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps, float* y,
              cudaStream_t s);
void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
          const RopeParams& p, cudaStream_t s);
void silu_mul(const float* gate, const float* up, int64_t count, float* out, cudaStream_t s);
void gelu_mul(const float* gate, const float* up, int64_t count, float* out, cudaStream_t s);
void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                    float* out, cudaStream_t s);
void scale(float* x, int64_t count, float f, cudaStream_t s);
void add(float* x, const float* y, int64_t count, cudaStream_t s);
// x += residual, then y = rms_norm(x) (Backend::add_rms_norm), one block per row.
void add_rms_norm(float* x, const float* residual, int64_t n, int64_t dim, const float* weight,
                  float eps, float* y, cudaStream_t s);
// x += rms_norm(r, r_weight), then y = rms_norm(x) where weight is given
// (Backend::add_normed_rms_norm), one block per row.
void add_normed_rms_norm(float* x, const float* r, const float* r_weight, int64_t n, int64_t dim,
                         const float* weight, float eps, float* y, cudaStream_t s);
// Backend::prepare_qkv in one kernel (kernels_attention_inputs.cu), head_dim up to 256.
bool prepare_qkv_supported(int64_t head_dim);
void prepare_qkv(const QkvInputs& in, const KvLayerView& cache, cudaStream_t s);
void add_bias(float* x, int64_t n, int64_t dim, const float* bias, cudaStream_t s);
void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim, float* out,
                 cudaStream_t s);
// Encoder ops (kernels_encoder.cu): one block per row / (token, head) / sequence.
void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                float eps, float* y, cudaStream_t s);
void gelu_erf(const float* x, int64_t count, float* out, cudaStream_t s);
// Tiled (any length) for head_dim <= 128; wider heads: one block per (token, head) for sequences
// up to kMaxBidirectionalLen tokens (their scores stay in shared memory).
constexpr int64_t kMaxBidirectionalLen = 8192;
bool bidirectional_attention_tiled(int64_t head_dim);
void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                             int64_t head_dim, const SequenceBatch& batch, float scale, float* out,
                             cudaStream_t s);
void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode, float* out,
               cudaStream_t s);
void l2_normalize(float* x, int64_t n, int64_t dim, cudaStream_t s);
// Vision ops (kernels_vision.cu): one thread per element / per (pooled row, column).
void gelu_tanh(const float* x, int64_t count, float* out, cudaStream_t s);
void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                 float* out, cudaStream_t s);
void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                 const KvLayerView& cache, cudaStream_t s);
// Recurrent ops (kernels_recurrent.cu), Backend's semantics: the conv for kernel sizes up to
// kMaxConvKernel (one thread per channel and sequence), the delta rule for head_k_dim up to 256
// (one block per sequence, value head and 32 columns of the state).
constexpr int64_t kMaxConvKernel = 8;
void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                        float* state, const RecurrentBatch& batch, float* out, cudaStream_t s);
void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                      const float* dt_bias, const DeltaNetShape& shape, float* state,
                      const RecurrentBatch& batch, float* out, cudaStream_t s);
void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim,
                 cudaStream_t s);
// Rows of argmax_slices(cols) > 1 split over that many blocks, whose partials
// ([rows, slices] scratch) one warp per row merges.
struct ArgmaxPartial {
  float value;
  int32_t at;
};
int64_t argmax_slices(int64_t cols);
void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out, ArgmaxPartial* partials,
                 cudaStream_t s);

// Up to kMaxHostScatter copies of 4-byte words from page-locked host memory to device memory
// in one launch (kernels_upload.cu): no copy-engine operation per array. A plain launch, so the
// step's first kernel (not launched with PDL) waits for it.
constexpr int kMaxHostScatter = 16;
struct HostScatter {
  int count = 0;
  uint32_t* dst[kMaxHostScatter] = {};
  const uint32_t* src[kMaxHostScatter] = {};  // page-locked host memory
  int64_t words[kMaxHostScatter] = {};
};
void scatter_from_host(const HostScatter& list, cudaStream_t s);

// Backend::sample_rows (kernels_sampling.cu): specs[rows] with their edits (token-sorted, per
// row from edit_begin) and allowed masks (from mask_begin, or none when < 0) in device memory;
// staged: [rows, vocab] scratch.
struct DeviceRowSampling {
  int32_t row;
  float temperature;
  int32_t top_k;
  float top_p;
  float min_p;
  double u;
  int32_t num_logprobs;
  int32_t edit_begin, num_edits;
  int64_t mask_begin;
};
void sample_rows(const float* x, int64_t vocab, const DeviceRowSampling* specs, int64_t rows,
                 const RowSamplingEdit* edits, const uint32_t* masks, float* staged,
                 RowSampled* out, cudaStream_t s);

// Matrix products (kernels_matmul.cu).
// matmul_rows_many: ps[i].y[n, w.rows] = x[n, w.cols] . w^T for up to kMaxRowsProducts weights
// of one column count and one dtype (quantized ones: any mix of the quantized dtypes, one launch
// per run of one dtype), each output's reduction order fixed and independent of n
// (batch-invariant). Bandwidth-bound for small n. Quantized weights multiply
// int16-quantized activations (kernels_matmul_act16.cu, quantized once per call) in `scratch`,
// matmul_rows_scratch_bytes(n, w) of device memory.
constexpr int kMaxRowsProducts = 3;
struct RowsProduct {
  const Weight* w;
  float* y;                     // [n, w->rows]
  const float* bias = nullptr;  // [w->rows] added in the store (after the sum), or none
};
// How the products read x and write y: norm: x's rows are RMS-normed with this weight first,
// folded into the products (x unchanged); up: the products take silu(x) * up (x the gate);
// accumulate: y += the product instead of y = it (a residual add). max_stages: how the weights
// are read, not what is computed: through up to that many shared-memory stages per thread
// (cp.async, rows_product.cuh), or through registers (0); the sums are the same. route (logits
// set; the expert products' activation pass only): that pass also routes x's tokens over
// route_experts experts, route_k each, as moe_route does.
constexpr int kMaxRowsStages = 4;
struct RowsMode {
  const float* norm = nullptr;
  float eps = 0.0f;
  const float* up = nullptr;
  Glu glu;  // with up: the gated unit (quantized weights only)
  bool accumulate = false;
  int max_stages = 0;
  Backend::Routing route{};
  int route_experts = 0, route_k = 0;
  bool pair_launch = false;  // Q4G32 products beside Q6G16/Q8G16 ones at one row: one launch
};
// Whether matmul_rows_many takes `mode` for weights like w: float weights fold norms and adds;
// quantized ones (their activations quantized by a kernel of their own) every mode.
bool rows_mode_supported(const Weight& w, const RowsMode& mode);
size_t matmul_rows_scratch_bytes(int64_t n, const Weight& w);
void matmul_rows_many(const float* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                      cudaStream_t s, const RowsMode& mode = {});
// The quantized part of matmul_rows_many.
size_t act16_scratch_bytes(int64_t n, int64_t cols);
void matmul_rows_act16(const float* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                       cudaStream_t s, const RowsMode& mode = {});
// Whole weight -> f16 [rows, cols] (quantized and float types), for tensor-core GEMMs.
void dequantize_to_f16(const Weight& w, uint16_t* out, cudaStream_t s);
// Quantized weights (any of the family; cols a multiple of 64) x f16 activations on tensor
// cores, dequantized in registers (kernels_qgemm.cu): ps[i].y[n, rows] = x[n, cols] . w^T (+
// ps[i].bias after the sum), f32 sums, for up to kMaxRowsProducts weights of one dtype and column
// count (one launch, its K splits planned for all their blocks). Each output's sums depend on n and
// the launch's shapes (a product alone may split otherwise than beside others). `scratch` holds the
// largest qgemm_scratch_bytes(n, w, o) of them (split-K partial sums where no cluster can add them;
// 0 bytes on sm_90). How the fused GEMM runs (backend/cuda/tuning.h): wgmma: as warpgroup MMAs,
// only where qgemm_wgmma_available(); cluster: K splits summed in thread-block clusters on sm_90
// and later; wave_plan: with cluster sums, one launch planned for all its tiles (else a plan per
// weight).
struct QgemmOptions {
  bool wgmma;
  bool cluster;
  bool wave_plan;
  int expert_prefetch;  // tuning's expert_prefetch
};
bool qgemm_supported(const Weight& w);
bool qgemm_wgmma_available();
size_t qgemm_scratch_bytes(int64_t n, const Weight& w, const QgemmOptions& o);
void qgemm_many(const uint16_t* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                const QgemmOptions& o, cudaStream_t s);
// x[count] f32 -> f16 or bf16 bit patterns.
void to_f16(const float* x, int64_t count, uint16_t* out, cudaStream_t s);
void to_bf16(const float* x, int64_t count, uint16_t* out, cudaStream_t s);

// Mixture of experts (kernels_moe.cu), all on the device. Backend::moe_route for up to
// kMaxRouteK experts per token of up to 512; Backend::moe_combine.
constexpr int64_t kMaxRouteK = 32;
void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
               bool renormalize, int32_t* ids, float* weights, cudaStream_t s);
void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                 float* out, bool accumulate, cudaStream_t s);
// Experts placed in one allocation: expert e's planar weight [rows, cols] at base + e * stride.
struct ExpertWeights {
  const uint8_t* base;
  int64_t stride;
  int64_t count;
  DType dtype;
  int64_t rows, cols;
};
constexpr int64_t kMaxGroupedExperts = 2048;  // the grouping kernel's shared memory
bool experts_supported(DType t);              // the quantized formats of the act16 products
// One product of Backend::matmul_experts: the experts, their biases [count, rows] or null, and
// y [slots, rows].
struct ExpertOutput {
  ExpertWeights w;
  const float* bias;
  float* y;
};
constexpr int kMaxExpertProducts = 2;
// Up to kMaxExpertProducts products of one shape over x [n or n * k (x_per_slot), cols], its
// rows taken as RowsMode's norm / up / glu say: activations int16-quantized once, then one
// block per slot for few tokens, else slots grouped by expert on the device so each expert's
// weights are read once per group. Each slot's sums are the same for every n (batch-invariant).
size_t experts_scratch_bytes(int64_t n, int64_t k, bool x_per_slot, const ExpertWeights& w);
void matmul_experts(const float* x, bool x_per_slot, const RowsMode& mode, int64_t n,
                    const ExpertOutput* ps, int count, const int32_t* ids, int64_t k, void* scratch,
                    cudaStream_t s);
// The same products on the fused GEMM's tensor-core tiles (kernels_qgemm_experts.cu), for
// batches whose experts get many slots: slots grouped by expert on the device, each group's
// rows gathered to f16 (glu(x, up) when up is set), one launch of BN-slot chunks. No host sync;
// a slot's sums depend on the batch's tile width (not batch-invariant).
int qgemm_experts_tile(int64_t slots, int64_t num_experts);  // BN: 16, 32 or 64
bool qgemm_experts_supported(const ExpertWeights& w);
size_t qgemm_experts_scratch_bytes(int64_t n, int64_t k, const ExpertWeights& w);
void qgemm_experts(const float* x, bool x_per_slot, const float* up, const Glu& glu, int64_t n,
                   const ExpertOutput* ps, int count, const int32_t* ids, int64_t k, void* scratch,
                   const QgemmOptions& o, cudaStream_t s);

// Paged attention over mixed prefill + decode tokens (kernels_attention.cu): one block per
// (token, group of query heads). scratch: device floats for split-K partials,
// attention_scratch_floats(...) of them. batch_invariant: fixed splits always combined, so a
// token's result does not depend on the rest of the batch. tokens: when not null, only these
// token indices (device, num_tokens of them, contexts up to max_context) are computed.
struct TokenSubset {
  const int32_t* tokens = nullptr;
  int64_t num_tokens = 0;
  int64_t max_context = 0;
};
int64_t attention_scratch_floats(int64_t num_tokens, int64_t num_heads, int64_t head_dim);
void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, float scale, float* out, float* scratch,
                     bool batch_invariant, cudaStream_t s, const TokenSubset* subset = nullptr);

// Attention on tensor cores (kernels_attention_tiles.cu, f16 operands, f32 sums): a tile
// is up to 64 / G tokens of one sequence (G query heads of a KV head per tile).
struct AttentionTile {
  int32_t seq, first_token, num_tokens, unused;
};
// A batch split between the tiled kernel (sequences with several tokens in the batch, and
// decodes when there are enough of them to fill the GPU) and the per-token kernel (the other
// tokens), planned on the host from host copies of the batch.
// pieces > 1: few tiles, of at most 16 rows each, their contexts split across that many blocks
// (split_tiled_attention).
struct AttentionSplit {
  std::vector<AttentionTile> tiles;
  std::vector<int32_t> other_tokens;
  int64_t other_max_context = 0;
  int64_t pieces = 1;
};
bool tiled_attention_supported(int64_t head_dim);
AttentionSplit plan_attention(const int32_t* query_start, const int32_t* positions,
                              int64_t num_seqs, int64_t num_heads, int64_t group, int64_t head_dim,
                              bool key_split, int64_t max_pieces);
// key_split: tiles of at most 16 query rows split their keys over the warps (else one warp per
// 16 rows; an A/B switch, backend/cuda/tuning.h).
void tiled_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, const AttentionTile* tiles, int64_t num_tiles,
                     float scale, float* out, bool key_split, cudaStream_t s);
// Decode-only batches (one token per sequence; recorded steps too: no host copies needed) on
// the same tiles, one per sequence. When the batch alone would leave multiprocessors idle, each
// context is split into `pieces` ranges of whole chunks (flash-decoding); every block writes its
// unnormalized sums to `partials`, and the last of a tile's blocks to finish (a ticket in
// `tickets`, reset after use) merges them in piece order. Scratch sizes are fixed bounds.
// Without key_split, one piece (the merge is the key-split tiles' own); max_pieces > 0 caps them.
// cluster (sm_90, at most 8 pieces): a context's pieces form a thread-block cluster and merge
// through distributed shared memory instead (same bits, no partials or tickets).
int64_t decode_partials_floats();
int64_t decode_tickets();
// Tiles of at most 16 rows with their contexts split into `pieces` (plan_attention's), merged as
// decode_attention merges; partials and tickets are decode_attention's scratch.
void split_tiled_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                           const AttentionBatch& batch, const AttentionTile* tiles,
                           int64_t num_tiles, int64_t pieces, float scale, float* out,
                           float* partials, int32_t* tickets, bool cluster, cudaStream_t s);
void decode_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                      const AttentionBatch& batch, float scale, float* out, float* partials,
                      int32_t* tickets, bool key_split, int64_t max_pieces, bool cluster,
                      cudaStream_t s);
bool device_has_clusters();  // sm_90 and later (device_info.cu)

}  // namespace sluice::cuda
