// Which kernel takes a matrix product: the weight-streaming products for few rows (and every
// product in batch-invariant mode), the fused quantized GEMM for up to tuning's qgemm_max_rows,
// else cuBLAS on tensor cores (quantized weights dequantized to f16 first).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"

namespace sluice::cuda {

namespace {

// Most activation rows of float weights for the weight-streaming kernel (cuBLAS above).
constexpr int64_t kFloatGemvMaxRows = 8;

// Whether the weight-streaming products take these weights in one call: one column count, and
// one dtype or only quantized ones (their activations quantized once for all: Qwen3's q and k
// in Q4_K beside v in Q6_K).
bool rows_share_call(const Backend::Product* ps, int count) {
  if (count < 1 || count > kMaxRowsProducts) return false;
  const Weight& w0 = *ps[0].w;
  for (int i = 1; i < count; ++i) {
    const Weight& w = *ps[i].w;
    const bool dtype = w.dtype == w0.dtype || (is_quantized(w.dtype) && is_quantized(w0.dtype));
    if (w.cols != w0.cols || !dtype) return false;
  }
  return true;
}

}  // namespace

// Quantized weights stream for up to tuning's gemv_max_rows activation rows (the fused GEMM
// beats them from 5 rows: bench/results/gpu/gemv_rows/); float ones up to 8 (cuBLAS after).
bool CudaBackend::streams_rows(int64_t n, const Weight& w) const {
  return invariant_ || n <= (is_quantized(w.dtype) ? tuning_.gemv_max_rows : kFloatGemvMaxRows);
}

void CudaBackend::matmul(const float* x, int64_t n, const Weight& w, float* y) {
  if (n <= 0 || w.rows <= 0) return;
  const bool rows = streams_rows(n, w);
  const bool fused = !rows && n <= tuning_.qgemm_max_rows && qgemm_supported(w);
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

void CudaBackend::matmul_many(const float* x, int64_t n, const Product* products, int count) {
  if (n <= 0 || count <= 0) return;
  const bool rows = streams_rows(n, *products[0].w);
  // The fused GEMM takes quantized weights of one column count, one launch per dtype (Qwen3's and
  // Gemma 3's q and k in Q4_K beside v in Q6_K: two launches over one f16 copy of x).
  bool fusable = count <= kMaxRowsProducts;
  for (int i = 0; fusable && i < count; ++i)
    fusable = qgemm_supported(*products[i].w) && products[i].w->cols == products[0].w->cols;
  const Weight& w0 = *products[0].w;
  if (!rows && fusable && n <= tuning_.qgemm_max_rows) {
    auto t = timer_->scope("qgemm many", n, dtype_name(w0.dtype));
    return fused_qgemm(x, n, products, count);  // the biases in its stores
  }
  if (!rows || !rows_share_call(products, count))
    return Backend::matmul_many(x, n, products, count);
  auto t = timer_->scope("matmul_rows many", n, dtype_name(w0.dtype));
  RowsProduct ps[kMaxRowsProducts];
  for (int i = 0; i < count; ++i)
    ps[i] = RowsProduct{products[i].w, products[i].y, products[i].bias};
  rows_products(x, n, ps, count);
}

// Norms and residual adds fold into the weight-streaming products (not in the batch-invariant
// mode, where every n must round alike).
bool CudaBackend::folds_norms(int64_t n, const Weight& w) const {
  RowsMode mode;
  mode.accumulate = true;
  return tuning_.fold_norms && !invariant_ && n >= 1 && streams_rows(n, w) &&
         rows_mode_supported(w, mode);
}

void CudaBackend::matmul_many_normed(const float* x, int64_t n, const float* norm, float eps,
                                     float* h, const Product* products, int count) {
  bool same = rows_share_call(products, count);
  for (int i = 0; same && i < count; ++i) same = folds_norms(n, *products[i].w);
  if (!same) return Backend::matmul_many_normed(x, n, norm, eps, h, products, count);
  auto t = timer_->scope("matmul_rows normed", n, dtype_name(products[0].w->dtype));
  RowsProduct ps[kMaxRowsProducts];
  for (int i = 0; i < count; ++i)
    ps[i] = RowsProduct{products[i].w, products[i].y, products[i].bias};
  RowsMode mode;
  mode.norm = norm, mode.eps = eps;
  rows_products(x, n, ps, count, mode);
}

void CudaBackend::matmul_add(const float* x, int64_t n, const Weight& w, const float* bias,
                             float* y, float* h) {
  if (!folds_norms(n, w)) return Backend::matmul_add(x, n, w, bias, y, h);
  auto t = timer_->scope("matmul_rows add", n, dtype_name(w.dtype));
  const RowsProduct p{&w, y, bias};
  RowsMode mode;
  mode.accumulate = true;
  rows_products(x, n, &p, 1, mode);
}

void CudaBackend::matmul_add_gated(float* gate, const float* up, int64_t n, const Weight& w,
                                   float* y, float* h) {
  RowsMode mode;
  mode.up = up, mode.accumulate = true;
  if (!folds_norms(n, w) || !rows_mode_supported(w, mode))
    return Backend::matmul_add_gated(gate, up, n, w, y, h);
  auto t = timer_->scope("matmul_rows add gated", n, dtype_name(w.dtype));
  const RowsProduct p{&w, y};
  rows_products(gate, n, &p, 1, mode);
}

// 16-bit operands (BF16 weights as they are, F32 in f32, the rest converted to f16), f32
// accumulation and output. Column-major view: Y^T[rows, n] = op(W)[rows, cols] . X^T[cols, n],
// op = transpose.
void CudaBackend::gemm(const float* x, int64_t n, const Weight& w, float* y) {
  const int m = static_cast<int>(w.rows), k = static_cast<int>(w.cols), nn = static_cast<int>(n);
  const float one = 1.0f, zero = 0.0f;
  if (w.dtype == DType::F32) {
    SLUICE_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, m, nn, k, &one,
                                    reinterpret_cast<const float*>(w.data), k, x, k, &zero, y, m));
    return;
  }
  const bool bf = w.dtype == DType::BF16;
  uint16_t* xh = x16_.grow(static_cast<size_t>(n * w.cols));
  if (bf)
    to_bf16(x, n * w.cols, xh, stream_);
  else
    to_f16(x, n * w.cols, xh, stream_);
  const void* wp = w.data;
  if (w.dtype != DType::F16 && !bf) {
    uint16_t* wh = wf16_.grow(static_cast<size_t>(w.rows * w.cols));
    auto t = timer_->scope("gemm dequantize", n, dtype_name(w.dtype));
    dequantize_to_f16(w, wh, stream_);
    wp = wh;
  }
  const cudaDataType t = bf ? CUDA_R_16BF : CUDA_R_16F;
  SLUICE_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, m, nn, k, &one, wp, t, k, xh,
                                   t, k, &zero, y, CUDA_R_32F, m, CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
}

// The activations are converted to f16 once for all products; one qgemm_many per dtype.
void CudaBackend::fused_qgemm(const float* x, int64_t n, const Product* ps, int count) {
  const int64_t cols = ps[0].w->cols;
  size_t scratch_bytes = 0;
  for (int i = 0; i < count; ++i)
    scratch_bytes = std::max(scratch_bytes, qgemm_scratch_bytes(n, *ps[i].w, qgemm_));
  uint8_t* scratch = qgemm_scratch_.grow(scratch_bytes);
  uint16_t* xh = x16_.grow(static_cast<size_t>(n * cols));
  to_f16(x, n * cols, xh, stream_);
  bool done[kMaxRowsProducts] = {};
  for (int i = 0; i < count; ++i) {
    if (done[i]) continue;
    RowsProduct rps[kMaxRowsProducts];
    int m = 0;
    for (int j = i; j < count; ++j)
      if (!done[j] && ps[j].w->dtype == ps[i].w->dtype)
        done[j] = true, rps[m++] = RowsProduct{ps[j].w, ps[j].y, ps[j].bias};
    qgemm_many(xh, n, rps, m, scratch, qgemm_, stream_);
  }
}

// The weights are read through up to tuning's rows_stages shared-memory stages per thread
// (RowsMode::max_stages), except float weights at one activation row: there the stages' shared
// memory measured 6% slower in single-stream decode (8B BF16; 4-bit gained 5%:
// docs/PERFORMANCE_GPU.md).
void CudaBackend::rows_products(const float* x, int64_t n, const RowsProduct* ps, int count,
                                const RowsMode& mode) {
  uint8_t* scratch = rows_scratch_.grow(matmul_rows_scratch_bytes(n, *ps[0].w));
  RowsMode staged = mode;
  staged.max_stages = is_quantized(ps[0].w->dtype) || n > 1 ? tuning_.rows_stages : 0;
  staged.pair_launch = tuning_.pair_launch;
  matmul_rows_many(x, n, ps, count, scratch, stream_, staged);
}

}  // namespace sluice::cuda
