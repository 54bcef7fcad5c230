// The mixture-of-experts ops on the device (kernels/kernels_moe.cu): experts placed in one
// allocation so a kernel finds expert e's weight from its id; float experts, or experts placed
// one by one, take the host-routed defaults (backend/moe_ops.cc).
#include <vector>

#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"

namespace sluice::cuda {

namespace {
constexpr size_t kExpertAlign = 256;  // each expert's planar weight starts on this boundary

// experts[count] as one strided allocation, or nothing (count == 0) when placed otherwise.
ExpertWeights strided(const Weight* experts, int64_t count) {
  const Weight& w0 = experts[0];
  ExpertWeights w{w0.data, 0, count, w0.dtype, w0.rows, w0.cols};
  if (count > 1) w.stride = experts[1].data - w0.data;
  for (int64_t e = 1; e < count; ++e)
    if (experts[e].data != w0.data + e * w.stride || experts[e].device != w0.device ||
        experts[e].dtype != w0.dtype || experts[e].rows != w0.rows || experts[e].cols != w0.cols)
      return ExpertWeights{};
  return w;
}
}  // namespace

std::vector<Weight> CudaBackend::place_experts(const Weight& stacked, int64_t num_experts) {
  if (!experts_supported(stacked.dtype)) return Backend::place_experts(stacked, num_experts);
  SLUICE_ASSERT(num_experts > 0 && stacked.rows % num_experts == 0,
                "stacked experts split evenly by rows");
  const int64_t rows = stacked.rows / num_experts;
  const size_t bytes = stacked.rows_view(0, rows).nbytes();
  const size_t stride = (bytes + kExpertAlign - 1) / kExpertAlign * kExpertAlign;
  void* base = nullptr;
  SLUICE_CUDA_CHECK(cudaMalloc(&base, stride * num_experts));
  std::shared_ptr<const void> hold(base, [](const void* q) { cudaFree(const_cast<void*>(q)); });
  void* staging = nullptr;  // one expert in the block layout, converted to planar in place
  SLUICE_CUDA_CHECK(cudaMalloc(&staging, bytes));
  std::vector<Weight> out;
  for (int64_t e = 0; e < num_experts; ++e) {
    const Weight host = stacked.rows_view(e * rows, rows);
    uint8_t* dst = static_cast<uint8_t*>(base) + e * stride;
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(staging, host.data, bytes, cudaMemcpyHostToDevice, stream_));
    to_planar(Weight::from_mapped(host.dtype, rows, host.cols, static_cast<uint8_t*>(staging)), dst,
              stream_);
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));  // staging is reused
    Weight d = Weight::from_mapped(host.dtype, rows, host.cols, dst);
    d.device = hold;
    out.push_back(d);
  }
  SLUICE_CUDA_CHECK(cudaFree(staging));
  return out;
}

bool CudaBackend::experts_on_device(const Weight& expert) const {
  return experts_supported(expert.dtype) && expert.device != nullptr;
}

void CudaBackend::moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k,
                            MoeRouting mode, bool renormalize, int32_t* ids, float* weights) {
  auto t = timer_->scope("moe_route", n, "f32");
  cuda::moe_route(logits, n, num_experts, k, mode, renormalize, ids, weights, stream_);
}

// Experts this backend's kernels take (placed by place_experts, a supported format), or none.
ExpertWeights CudaBackend::device_experts(const Weight* experts, int64_t num_experts) const {
  if (!experts_supported(experts[0].dtype) || num_experts > kMaxGroupedExperts) return {};
  return strided(experts, num_experts);
}

void CudaBackend::run_experts(const float* x, bool x_per_slot, const RowsMode& mode, int64_t n,
                              const ExpertOutput* ps, int count, const int32_t* ids, int64_t k) {
  const bool gemm = experts_by_gemm(n, k, ps[0].w);
  const char* what = count > 1 ? (gemm                ? "matmul_experts many gemm"
                                  : mode.route.logits ? "matmul_experts many normed routed"
                                  : mode.norm         ? "matmul_experts many normed"
                                                      : "matmul_experts many")
                     : mode.up ? (gemm ? "matmul_experts glu gemm" : "matmul_experts glu")
                               : (gemm ? "matmul_experts gemm" : "matmul_experts");
  auto t = timer_->scope(what, n, dtype_name(ps[0].w.dtype));
  if (gemm) {
    uint8_t* scratch = experts_scratch_.grow(qgemm_experts_scratch_bytes(n, k, ps[0].w));
    return qgemm_experts(x, x_per_slot, mode.up, mode.glu, n, ps, count, ids, k, scratch, qgemm_,
                         stream_);
  }
  uint8_t* scratch = experts_scratch_.grow(experts_scratch_bytes(n, k, x_per_slot, ps[0].w));
  cuda::matmul_experts(x, x_per_slot, mode, n, ps, count, ids, k, scratch, stream_);
}

// From tuning's moe_gemm_slots slots per expert on average (outside the batch-invariant mode,
// whose sums must not depend on the batch). H200, 64 requests: from 1 slot per expert the GEMM
// beat the weight-streaming kernel (Qwen3-30B-A3B at 16 sequences, 1 per expert: 963 vs 706
// tok/s; at 64, 4 per expert: 2,624 vs 1,564; gpt-oss-20b at 64, 8 per expert: 3,266 vs 912).
bool CudaBackend::experts_by_gemm(int64_t n, int64_t k, const ExpertWeights& w) const {
  return !invariant_ && tuning_.moe_gemm_slots > 0 &&
         static_cast<double>(n * k) >= tuning_.moe_gemm_slots * static_cast<double>(w.count) &&
         qgemm_experts_supported(w);
}

void CudaBackend::matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                                 int64_t num_experts, const int32_t* ids, int64_t k, float* y) {
  const ExpertOutput out{device_experts(experts, num_experts), nullptr, y};
  if (out.w.count == 0)
    return Backend::matmul_experts(x, x_per_slot, n, experts, num_experts, ids, k, y);
  run_experts(x, x_per_slot, RowsMode{}, n, &out, 1, ids, k);
}

// ps as this backend's expert outputs, or false where its kernels cannot take them all.
bool CudaBackend::device_products(const ExpertProduct* ps, int count, int64_t num_experts,
                                  ExpertOutput* outs) const {
  bool device = count >= 1 && count <= kMaxExpertProducts;
  for (int i = 0; device && i < count; ++i) {
    outs[i] = ExpertOutput{device_experts(ps[i].experts, num_experts), ps[i].bias, ps[i].y};
    device = outs[i].w.count > 0 && outs[i].w.dtype == outs[0].w.dtype &&
             outs[i].w.rows == outs[0].w.rows && outs[i].w.cols == outs[0].w.cols;
  }
  return device;
}

void CudaBackend::matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                                      int64_t num_experts, const int32_t* ids, int64_t k,
                                      float* scratch) {
  ExpertOutput outs[kMaxExpertProducts];
  if (!device_products(ps, count, num_experts, outs))
    return Backend::matmul_experts_many(x, n, ps, count, num_experts, ids, k, scratch);
  run_experts(x, false, RowsMode{}, n, outs, count, ids, k);
}

// The weight-streaming kernel quantizes norm(x) itself (one launch fewer than rms_norm first);
// the expert GEMM reads the normed rows.
void CudaBackend::matmul_experts_many_normed(const float* x, int64_t n, const float* norm,
                                             float eps, float* h, const ExpertProduct* ps,
                                             int count, int64_t num_experts, const int32_t* ids,
                                             int64_t k, float* scratch) {
  ExpertOutput outs[kMaxExpertProducts];
  if (!device_products(ps, count, num_experts, outs) || experts_by_gemm(n, k, outs[0].w))
    return Backend::matmul_experts_many_normed(x, n, norm, eps, h, ps, count, num_experts, ids, k,
                                               scratch);
  RowsMode mode;
  mode.norm = norm, mode.eps = eps;
  run_experts(x, false, mode, n, outs, count, ids, k);
}

// The weight-streaming kernel's activation pass routes too (one launch fewer than moe_route
// first); the expert GEMM's batches route first.
void CudaBackend::route_experts_many_normed(const Routing& r, const float* x, int64_t n,
                                            const float* norm, float eps, float* h,
                                            const ExpertProduct* ps, int count, int64_t num_experts,
                                            int64_t k, float* scratch) {
  ExpertOutput outs[kMaxExpertProducts];
  if (!tuning_.route_in_pass || !device_products(ps, count, num_experts, outs) ||
      experts_by_gemm(n, k, outs[0].w))
    return Backend::route_experts_many_normed(r, x, n, norm, eps, h, ps, count, num_experts, k,
                                              scratch);
  RowsMode mode;
  mode.norm = norm, mode.eps = eps;
  mode.route = r, mode.route_experts = static_cast<int>(num_experts);
  mode.route_k = static_cast<int>(k);
  run_experts(x, false, mode, n, outs, count, r.ids, k);
}

void CudaBackend::matmul_experts_glu(float* gate, const float* up, const Glu& glu, int64_t n,
                                     const ExpertProduct& p, int64_t num_experts,
                                     const int32_t* ids, int64_t k, float* scratch) {
  const ExpertOutput out{device_experts(p.experts, num_experts), p.bias, p.y};
  if (out.w.count == 0)
    return Backend::matmul_experts_glu(gate, up, glu, n, p, num_experts, ids, k, scratch);
  RowsMode mode;
  mode.up = up, mode.glu = glu;
  run_experts(gate, true, mode, n, &out, 1, ids, k);
}

void CudaBackend::moe_combine(const float* y, const float* weights, int64_t n, int64_t k,
                              int64_t dim, float* out, bool accumulate) {
  auto t = timer_->scope(accumulate ? "moe_combine add" : "moe_combine", n, "f32");
  cuda::moe_combine(y, weights, n, k, dim, out, accumulate, stream_);
}

}  // namespace sluice::cuda
