// The CUDA backend: device memory, one stream, cuBLAS for large products; the op kernels live
// in kernels_*.cu. Deterministic mode routes every product through the batch-invariant kernel.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/op_timer.h"
#include "common/assert.h"

namespace sluice::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: clear the sticky error
    return 0;
  }
  return n;
}

namespace {

// Above this many activation rows a product goes to cuBLAS (tensor cores); at or below it the
// weight-streaming kernel reads each weight once for all rows.
constexpr int64_t kGemvMaxRows = 8;
// Up to this many rows quantized weights go to the fused tensor-core product (qgemm, no f16
// copy of the weight); above it, dequantize + cuBLAS. SLUICE_CUDA_QGEMM_MAX_ROWS overrides it
// (0: never fused; an A/B switch, bench/gpu/README.md).
constexpr int64_t kQgemmMaxRows = 128;

class CudaGraph final : public Recording {
 public:
  CudaGraph(cudaGraphExec_t exec, cudaStream_t stream) : exec_(exec), stream_(stream) {}
  ~CudaGraph() override { cudaGraphExecDestroy(exec_); }
  void replay() override { SLUICE_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

 private:
  cudaGraphExec_t exec_;
  cudaStream_t stream_;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    SLUICE_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    SLUICE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    name_ = std::string("cuda:") + prop.name;
    SLUICE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    SLUICE_CUBLAS_CHECK(cublasCreate(&cublas_));
    SLUICE_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    timer_ = std::make_unique<OpTimer>(stream_);
  }
  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    timer_.reset();
    for (void* p : {static_cast<void*>(wf16_), static_cast<void*>(x16_),
                    static_cast<void*>(attn_scratch_), static_cast<void*>(rows_scratch_),
                    static_cast<void*>(qgemm_scratch_),
                    static_cast<void*>(plan_tiles_), static_cast<void*>(sample_in_),
                    static_cast<void*>(sample_out_), static_cast<void*>(sample_staged_),
                    static_cast<void*>(plan_tokens_), static_cast<void*>(decode_partials_),
                    static_cast<void*>(decode_tickets_)})
      if (p) cudaFree(p);
    if (sample_host_) cudaFreeHost(sample_host_);
    cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
  }

  std::string name() const override { return name_; }
  bool batch_invariant() const override { return invariant_; }
  bool set_batch_invariant(bool on) override {
    invariant_ = on;
    return true;
  }

  // ---- memory ----
  bool host_resident() const override { return false; }
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    SLUICE_CUDA_CHECK(cudaMalloc(&p, bytes > 0 ? bytes : 1));
    SLUICE_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_));
    return p;
  }
  void release(void* p) override {
    if (!p) return;
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    SLUICE_CUDA_CHECK(cudaFree(p));
  }
  void to_device(void* dst, const void* src, size_t bytes) override {
    if (bytes > 0)
      SLUICE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
  }
  void to_host(void* dst, const void* src, size_t bytes) override {
    if (bytes > 0) {
      auto t = timer_->scope("to_host", 1);
      SLUICE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    }
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    timer_->collect();
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes > 0)
      SLUICE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  void* alloc_host(size_t bytes) override {
    void* p = nullptr;
    SLUICE_CUDA_CHECK(cudaMallocHost(&p, bytes > 0 ? bytes : 1));
    return p;
  }
  void release_host(void* p) override {
    if (p) SLUICE_CUDA_CHECK(cudaFreeHost(p));
  }
  Weight place(const Weight& w) override {
    if (!w.data) return w;
    const size_t bytes = w.nbytes();
    void* p = nullptr;
    SLUICE_CUDA_CHECK(cudaMalloc(&p, bytes));
    // On our stream: a plain cudaMemcpy from pageable memory may return before its DMA lands,
    // and this (non-blocking) stream does not wait for it.
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(p, w.data, bytes, cudaMemcpyHostToDevice, stream_));
    if (is_quantized(w.dtype)) {  // the kernels read the planar layout (dequant.cuh)
      void* planar = nullptr;
      SLUICE_CUDA_CHECK(cudaMalloc(&planar, bytes));
      Weight blocks = Weight::from_mapped(w.dtype, w.rows, w.cols, static_cast<uint8_t*>(p));
      to_planar(blocks, static_cast<uint8_t*>(planar), stream_);
      SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
      SLUICE_CUDA_CHECK(cudaFree(p));
      p = planar;
    }
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    Weight d = Weight::from_mapped(w.dtype, w.rows, w.cols, static_cast<const uint8_t*>(p));
    d.device = std::shared_ptr<const void>(p, [](const void* q) { cudaFree(const_cast<void*>(q)); });
    return d;
  }
  KvDtype kv_dtype() const override { return KvDtype::F16; }
  size_t free_memory() const override {
    size_t free = 0, total = 0;
    SLUICE_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return free;
  }
  size_t total_memory() const override {
    size_t free = 0, total = 0;
    SLUICE_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return total;
  }

  // ---- recording (CUDA graphs) ----
  bool can_record() const override {
    return graphs_ && !profile::enabled();
  }
  void begin_recording() override {
    SLUICE_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  }
  std::unique_ptr<Recording> end_recording() override {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(stream_, &graph) != cudaSuccess || graph == nullptr) {
      (void)cudaGetLastError();
      return nullptr;
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    if (made != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return std::make_unique<CudaGraph>(exec, stream_);
  }

  // ---- ops ----
  void matmul(const float* x, int64_t n, const Weight& w, float* y) override {
    if (n <= 0 || w.rows <= 0) return;
    const bool rows = invariant_ || n <= kGemvMaxRows;
    const bool fused = !rows && n <= qgemm_max_rows_ && qgemm_supported(w);
    auto t = timer_->scope(rows ? "matmul_rows" : fused ? "qgemm" : "gemm", n, dtype_name(w.dtype));
    if (rows) {
      const RowsProduct p{&w, y};
      return rows_products(x, n, &p, 1);
    }
    if (fused) {
      const Product p{&w, y};
      return fused_qgemm(x, n, &p, 1);
    }
    gemm(x, n, w, y);
  }
  void matmul_many(const float* x, int64_t n, const Product* products, int count) override {
    if (n <= 0 || count <= 0) return;
    const bool rows = invariant_ || n <= kGemvMaxRows;
    bool same = count >= 1 && count <= kMaxRowsProducts;
    for (int i = 1; same && i < count; ++i)
      same = products[i].w->dtype == products[0].w->dtype &&
             products[i].w->cols == products[0].w->cols;
    const Weight& w0 = *products[0].w;
    if (!rows && same && n <= qgemm_max_rows_ && qgemm_supported(w0)) {
      auto t = timer_->scope("qgemm many", n, dtype_name(w0.dtype));
      return fused_qgemm(x, n, products, count);
    }
    if (!rows || !same) return Backend::matmul_many(x, n, products, count);
    auto t = timer_->scope("matmul_rows many", n, dtype_name(w0.dtype));
    RowsProduct ps[kMaxRowsProducts];
    for (int i = 0; i < count; ++i) ps[i] = RowsProduct{products[i].w, products[i].y};
    rows_products(x, n, ps, count);
  }
  // Norms and residual adds fold into the weight-streaming products (not in the batch-invariant
  // mode, where every n must round alike).
  bool folds_norms(int64_t n, const Weight& w) const override {
    RowsMode mode;
    mode.accumulate = true;
    return fold_norms_ && !invariant_ && n >= 1 && n <= kGemvMaxRows &&
           rows_mode_supported(w, mode);
  }
  void matmul_many_normed(const float* x, int64_t n, const float* norm, float eps, float* h,
                          const Product* products, int count) override {
    bool same = count >= 1 && count <= kMaxRowsProducts;
    for (int i = 0; same && i < count; ++i)
      same = folds_norms(n, *products[i].w) && products[i].w->dtype == products[0].w->dtype &&
             products[i].w->cols == products[0].w->cols;
    if (!same) return Backend::matmul_many_normed(x, n, norm, eps, h, products, count);
    auto t = timer_->scope("matmul_rows normed", n, dtype_name(products[0].w->dtype));
    RowsProduct ps[kMaxRowsProducts];
    for (int i = 0; i < count; ++i) ps[i] = RowsProduct{products[i].w, products[i].y};
    RowsMode mode;
    mode.norm = norm, mode.eps = eps;
    rows_products(x, n, ps, count, mode);
  }
  void matmul_add(const float* x, int64_t n, const Weight& w, float* y, float* h) override {
    if (!folds_norms(n, w)) return Backend::matmul_add(x, n, w, y, h);
    auto t = timer_->scope("matmul_rows add", n, dtype_name(w.dtype));
    const RowsProduct p{&w, y};
    RowsMode mode;
    mode.accumulate = true;
    rows_products(x, n, &p, 1, mode);
  }
  void matmul_add_gated(float* gate, const float* up, int64_t n, const Weight& w, float* y,
                        float* h) override {
    RowsMode mode;
    mode.up = up, mode.accumulate = true;
    if (!folds_norms(n, w) || !rows_mode_supported(w, mode))
      return Backend::matmul_add_gated(gate, up, n, w, y, h);
    auto t = timer_->scope("matmul_rows add gated", n, dtype_name(w.dtype));
    const RowsProduct p{&w, y};
    rows_products(gate, n, &p, 1, mode);
  }
  void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) override {
    auto t = timer_->scope("embedding", n);
    cuda::embedding(table, ids, n, out, stream_);
  }
  void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                float* y) override {
    auto t = timer_->scope("rms_norm", n);
    cuda::rms_norm(x, n, dim, weight, eps, y, stream_);
  }
  void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
            const RopeParams& p) override {
    auto t = timer_->scope("rope", n);
    cuda::rope(x, n, num_heads, head_dim, positions, p, stream_);
  }
  void silu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    auto t = timer_->scope("silu_mul", 1);
    cuda::silu_mul(gate, up, count, out, stream_);
  }
  void add(float* x, const float* y, int64_t count) override {
    auto t = timer_->scope("add", 1);
    cuda::add(x, y, count, stream_);
  }
  void add_rms_norm(float* x, const float* r, int64_t n, int64_t dim, const float* weight,
                    float eps, float* y) override {
    auto t = timer_->scope("add_rms_norm", n);
    cuda::add_rms_norm(x, r, n, dim, weight, eps, y, stream_);
  }
  void prepare_qkv(const QkvInputs& in, const KvLayerView& cache) override {
    if (!prepare_qkv_supported(in.head_dim)) return Backend::prepare_qkv(in, cache);
    auto t = timer_->scope("prepare_qkv", in.n);
    cuda::prepare_qkv(in, cache, stream_);
  }
  void add_bias(float* x, int64_t n, int64_t dim, const float* bias) override {
    auto t = timer_->scope("add_bias", n);
    cuda::add_bias(x, n, dim, bias, stream_);
  }
  void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                   float* out) override {
    auto t = timer_->scope("gather_rows", m);
    cuda::gather_rows(x, rows, m, dim, out, stream_);
  }
  bool samples_rows() const override { return sampling_; }
  void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                   RowSampled* out) override {
    if (rows.empty()) return;
    auto t = timer_->scope("sample_rows", static_cast<int64_t>(rows.size()));
    const int64_t words = (vocab + 31) / 32;
    std::vector<cuda::DeviceRowSampling> specs;
    std::vector<RowSamplingEdit> edits;
    std::vector<uint32_t> masks;
    for (const RowSampling& r : rows) {
      cuda::DeviceRowSampling d{};
      d.row = r.row, d.temperature = r.temperature, d.top_k = r.top_k, d.top_p = r.top_p;
      d.min_p = r.min_p, d.u = r.u;
      d.num_logprobs = std::min(r.num_logprobs, kMaxTopLogprobs);
      d.edit_begin = static_cast<int32_t>(edits.size());
      for (const RowSamplingEdit& e : r.edits) {
        SLUICE_ASSERT(e.token >= 0 && e.token < vocab, "an edit outside the vocab");
        SLUICE_ASSERT(edits.size() == static_cast<size_t>(d.edit_begin) || edits.back().token < e.token,
                      "a row's edits are sorted by token, each token once");
        edits.push_back(e);
      }
      d.num_edits = static_cast<int32_t>(edits.size()) - d.edit_begin;
      d.mask_begin = -1;
      if (r.allowed) {
        d.mask_begin = static_cast<int64_t>(masks.size());
        masks.insert(masks.end(), r.allowed, r.allowed + words);
      }
      specs.push_back(d);
    }
    // One upload of [specs | edits | masks] and one download of the results, through a
    // page-locked buffer (pageable copies cost ~10 us each).
    auto align = [](size_t b) { return (b + 15) / 16 * 16; };
    const size_t specs_bytes = align(specs.size() * sizeof(specs[0]));
    const size_t edits_bytes = align(edits.size() * sizeof(RowSamplingEdit));
    const size_t masks_bytes = align(masks.size() * sizeof(uint32_t));
    const size_t out_bytes = rows.size() * sizeof(RowSampled);
    const size_t in_bytes = specs_bytes + edits_bytes + masks_bytes;
    const size_t stage_bytes = std::max(in_bytes, out_bytes);
    if (stage_bytes > sample_host_cap_) {
      release_host(sample_host_);
      sample_host_cap_ = 2 * stage_bytes;
      sample_host_ = static_cast<uint8_t*>(alloc_host(sample_host_cap_));
    }
    std::memcpy(sample_host_, specs.data(), specs.size() * sizeof(specs[0]));
    std::memcpy(sample_host_ + specs_bytes, edits.data(), edits.size() * sizeof(RowSamplingEdit));
    std::memcpy(sample_host_ + specs_bytes + edits_bytes, masks.data(),
                masks.size() * sizeof(uint32_t));
    uint8_t* in = grow(sample_in_, sample_in_cap_, in_bytes);
    auto* dout = grow(sample_out_, sample_out_cap_, rows.size());
    float* staged = grow(sample_staged_, sample_staged_cap_, rows.size() * vocab);
    SLUICE_CUDA_CHECK(
        cudaMemcpyAsync(in, sample_host_, in_bytes, cudaMemcpyHostToDevice, stream_));
    cuda::sample_rows(x, vocab, reinterpret_cast<const cuda::DeviceRowSampling*>(in),
                      static_cast<int64_t>(rows.size()),
                      reinterpret_cast<const RowSamplingEdit*>(in + specs_bytes),
                      reinterpret_cast<const uint32_t*>(in + specs_bytes + edits_bytes), staged,
                      dout, stream_);
    to_host(sample_host_, dout, out_bytes);
    std::memcpy(out, sample_host_, out_bytes);
  }
  void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) override {
    auto t = timer_->scope("argmax_rows", rows);
    cuda::argmax_rows(x, rows, cols, out, stream_);
  }
  void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                   const KvLayerView& cache) override {
    auto t = timer_->scope("cache_write", n);
    cuda::cache_write(k, v, n, slot_mapping, cache, stream_);
  }
  void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                       const AttentionBatch& batch, float scale, float* out) override {
    float* scratch = grow(attn_scratch_, attn_scratch_cap_,
                          static_cast<size_t>(attention_scratch_floats(batch.num_tokens, num_heads,
                                                                       cache.head_dim)));
    // Decode-only batches (recorded steps too) and prefill chunks go to the tensor-core tiles;
    // batch-invariant mode keeps one kernel for every token (a token's result must not depend
    // on whether it shares a tile, or on how its context is split).
    if (tiles_ && decode_tiles_ && !invariant_ && batch.num_tokens == batch.num_seqs &&
        tiled_attention_supported(cache.head_dim)) {
      if (decode_tickets_ == nullptr) {  // fixed bounds: allocated once, never grown
        grow(decode_partials_, decode_partials_cap_, static_cast<size_t>(decode_partials_floats()));
        grow(decode_tickets_, decode_tickets_cap_, static_cast<size_t>(cuda::decode_tickets()));
        SLUICE_CUDA_CHECK(cudaMemsetAsync(decode_tickets_, 0, decode_tickets_cap_ * sizeof(int32_t),
                                          stream_));
      }
      auto t = timer_->scope("paged_attention", batch.num_tokens, "decode tiles");
      decode_attention(q, num_heads, cache, batch, scale, out, decode_partials_, decode_tickets_,
                       stream_);
      return;
    }
    // Prefill chunks (and many decodes beside them) go to the tiles.
    if (tiles_ && !invariant_ && batch.host_query_start && batch.host_positions &&
        tiled_attention_supported(cache.head_dim)) {
      const Plan& plan = attention_plan(batch, num_heads, num_heads / cache.num_kv_heads);
      if (plan.num_tiles > 0) {
        auto t = timer_->scope("paged_attention", batch.num_tokens, "tiles");
        tiled_attention(q, num_heads, cache, batch, plan.tiles, plan.num_tiles, scale, out,
                        stream_);
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


 private:
  // y[n, rows] = x[n, cols] . W^T on tensor cores: 16-bit operands (BF16 weights as they are,
  // F32 in f32, the rest converted to f16), f32 accumulation and output.
  // Column-major view: Y^T[rows, n] = op(W)[rows, cols] . X^T[cols, n], op = transpose.
  void gemm(const float* x, int64_t n, const Weight& w, float* y) {
    const int m = static_cast<int>(w.rows), k = static_cast<int>(w.cols), nn = static_cast<int>(n);
    const float one = 1.0f, zero = 0.0f;
    if (w.dtype == DType::F32) {
      SLUICE_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, m, nn, k, &one,
                                      reinterpret_cast<const float*>(w.data), k, x, k, &zero, y,
                                      m));
      return;
    }
    const bool bf = w.dtype == DType::BF16;
    uint16_t* xh = grow(x16_, x16_cap_, static_cast<size_t>(n * w.cols));
    if (bf) to_bf16(x, n * w.cols, xh, stream_); else to_f16(x, n * w.cols, xh, stream_);
    const void* wp = w.data;
    if (w.dtype != DType::F16 && !bf) {
      uint16_t* wh = grow(wf16_, wf16_cap_, static_cast<size_t>(w.rows * w.cols));
      auto t = timer_->scope("gemm dequantize", n, dtype_name(w.dtype));
      dequantize_to_f16(w, wh, stream_);
      wp = wh;
    }
    const cudaDataType t = bf ? CUDA_R_16BF : CUDA_R_16F;
    SLUICE_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, m, nn, k, &one, wp, t, k,
                                     xh, t, k, &zero, y, CUDA_R_32F, m, CUBLAS_COMPUTE_32F,
                                     CUBLAS_GEMM_DEFAULT));
  }
  // Quantized weights of one column count on tensor cores without an f16 copy of the weight;
  // the activations are converted to f16 once for all products.
  void fused_qgemm(const float* x, int64_t n, const Product* ps, int count) {
    const int64_t cols = ps[0].w->cols;
    size_t scratch_bytes = 0;
    for (int i = 0; i < count; ++i)
      scratch_bytes = std::max(scratch_bytes, qgemm_scratch_bytes(n, *ps[i].w));
    uint8_t* scratch = grow(qgemm_scratch_, qgemm_scratch_cap_, scratch_bytes);
    uint16_t* xh = grow(x16_, x16_cap_, static_cast<size_t>(n * cols));
    to_f16(x, n * cols, xh, stream_);
    RowsProduct rps[kMaxRowsProducts];
    for (int i = 0; i < count; ++i) rps[i] = RowsProduct{ps[i].w, ps[i].y};
    qgemm_many(xh, n, rps, count, scratch, qgemm_wgmma_, stream_);
  }
  // The weight-streaming products (n <= kGemvMaxRows, or batch-invariant mode), with the
  // scratch their quantized activations need.
  void rows_products(const float* x, int64_t n, const RowsProduct* ps, int count,
                     const RowsMode& mode = {}) {
    uint8_t* scratch =
        grow(rows_scratch_, rows_scratch_cap_, matmul_rows_scratch_bytes(n, *ps[0].w));
    RowsMode staged = mode;
    staged.max_stages = is_quantized(ps[0].w->dtype) || n > 1 ? rows_stages_ : 0;
    matmul_rows_many(x, n, ps, count, scratch, stream_, staged);
  }
  // The attention split of a batch, on the device: planned and uploaded once per batch id
  // (every layer of a forward), and on every call for batches without one.
  struct Plan {
    const AttentionTile* tiles = nullptr;
    int64_t num_tiles = 0;
    TokenSubset others;
  };
  const Plan& attention_plan(const AttentionBatch& b, int64_t num_heads, int64_t group) {
    if (b.id != 0 && b.id == plan_id_) return plan_;  // a model has one head layout
    plan_id_ = b.id;
    const AttentionSplit split =
        plan_attention(b.host_query_start, b.host_positions, b.num_seqs, num_heads, group);
    plan_.num_tiles = static_cast<int64_t>(split.tiles.size());
    plan_.others.num_tokens = static_cast<int64_t>(split.other_tokens.size());
    plan_.others.max_context = split.other_max_context;
    // Pageable host -> device copies: the source may be reused once the call returns.
    AttentionTile* tiles = grow(plan_tiles_, plan_tiles_cap_, std::max<size_t>(1, split.tiles.size()));
    int32_t* tokens = grow(plan_tokens_, plan_tokens_cap_, std::max<size_t>(1, split.other_tokens.size()));
    to_device(tiles, split.tiles.data(), split.tiles.size() * sizeof(AttentionTile));
    to_device(tokens, split.other_tokens.data(), split.other_tokens.size() * sizeof(int32_t));
    plan_.tiles = tiles;
    plan_.others.tokens = tokens;
    return plan_;
  }

  // A scratch buffer of at least `count` elements (contents not kept when it grows).
  template <typename T>
  T* grow(T*& p, size_t& cap, size_t count) {
    if (count > cap) {
      cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
      SLUICE_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capturing));
      SLUICE_ASSERT(capturing == cudaStreamCaptureStatusNone,
                    "a CUDA scratch buffer must grow while recording: run the ops once first");
      if (p) {
        SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
        SLUICE_CUDA_CHECK(cudaFree(p));
      }
      cap = count;
      SLUICE_CUDA_CHECK(cudaMalloc(&p, cap * sizeof(T)));
    }
    return p;
  }

  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  bool invariant_ = false;
  // SLUICE_CUDA_ATTENTION_TILES=0 sends prefill chunks through the per-token attention kernel
  // too (an A/B switch for benchmarks: bench/gpu/README.md).
  bool tiles_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_ATTENTION_TILES");
    return v == nullptr || std::string(v) != "0";
  }();
  // SLUICE_CUDA_DECODE_TILES=0: decode-only batches plan as mixed ones do (per-token kernel for
  // few decodes, unsplit tiles for many; an A/B switch).
  bool decode_tiles_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_DECODE_TILES");
    return v == nullptr || std::string(v) != "0";
  }();
  // SLUICE_CUDA_GRAPHS=0: no recording, every step launches its kernels (an A/B switch).
  bool graphs_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_GRAPHS");
    return v == nullptr || std::string(v) != "0";
  }();
  // SLUICE_CUDA_FOLD_NORMS=0: norms and residual adds stay separate ops (an A/B switch).
  bool fold_norms_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_FOLD_NORMS");
    return v == nullptr || std::string(v) != "0";
  }();
  // The weight-streaming products read their weights through up to this many shared-memory
  // stages per thread (RowsMode::max_stages; SLUICE_CUDA_ROWS_STAGES=0: through registers),
  // except float weights at one activation row: there the stages' shared memory measured 6%
  // slower in single-stream decode (8B BF16; 4-bit gained 5%: docs/PERFORMANCE_GPU.md).
  int rows_stages_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_ROWS_STAGES");
    return v == nullptr ? kMaxRowsStages : std::clamp(std::atoi(v), 0, kMaxRowsStages);
  }();
  // SLUICE_CUDA_SAMPLING=0: the engine samples host copies of the logits (an A/B switch).
  bool sampling_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_SAMPLING");
    return v == nullptr || std::string(v) != "0";
  }();
  int64_t qgemm_max_rows_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_QGEMM_MAX_ROWS");
    return v == nullptr ? kQgemmMaxRows : std::max<int64_t>(0, std::atoll(v));
  }();
  // The fused GEMM as warpgroup MMAs where the GPU runs them; SLUICE_CUDA_QGEMM_WGMMA=0: mma.sync.
  bool qgemm_wgmma_ = [] {
    const char* v = std::getenv("SLUICE_CUDA_QGEMM_WGMMA");
    return qgemm_wgmma_available() && (v == nullptr || std::string(v) != "0");
  }();
  std::unique_ptr<OpTimer> timer_;  // SLUICE_PROFILE: GPU time per op
  uint16_t* wf16_ = nullptr;  // [rows, cols] dequantized weight for the GEMM path
  uint16_t* x16_ = nullptr;   // [n, cols] activations in 16 bits
  size_t wf16_cap_ = 0, x16_cap_ = 0;
  uint8_t* qgemm_scratch_ = nullptr;  // qgemm: split-K partial sums
  size_t qgemm_scratch_cap_ = 0;
  uint8_t* rows_scratch_ = nullptr;  // matmul_rows: quantized activations
  size_t rows_scratch_cap_ = 0;
  float* attn_scratch_ = nullptr;  // split-K partial results of attention
  size_t attn_scratch_cap_ = 0;
  float* decode_partials_ = nullptr;  // decode attention: the pieces' sums, and their tickets
  int32_t* decode_tickets_ = nullptr;
  size_t decode_partials_cap_ = 0, decode_tickets_cap_ = 0;
  // sample_rows: [specs | edits | masks] in, results out, the rows' staged values, and the
  // page-locked host buffer both copies go through.
  uint8_t* sample_in_ = nullptr;
  RowSampled* sample_out_ = nullptr;
  float* sample_staged_ = nullptr;
  size_t sample_in_cap_ = 0, sample_out_cap_ = 0, sample_staged_cap_ = 0;
  uint8_t* sample_host_ = nullptr;
  size_t sample_host_cap_ = 0;
  // The last batch's attention plan (attention_plan) and that batch's id.
  Plan plan_;
  uint64_t plan_id_ = 0;
  AttentionTile* plan_tiles_ = nullptr;
  int32_t* plan_tokens_ = nullptr;
  size_t plan_tiles_cap_ = 0, plan_tokens_cap_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend>(device);
}

}  // namespace sluice::cuda
