// Expert products on the fused GEMM's tensor-core tiles (qgemm_tile.cuh), all on the device:
// the slots (token, rank) are grouped by expert into chunks of BN (expert_groups.cuh), each
// chunk's activation rows gathered to f16 in group order (the GLU applied first for the down
// projection), then one launch: block (chunk, row block) multiplies BN slots by 128 weight rows of
// the chunk's expert and stores each slot's sums (plus the expert's bias) at the slot's own row.
#include <cuda_fp16.h>

#include "backend/cuda/kernels/expert_groups.cuh"
#include "backend/cuda/kernels/qgemm_tile.cuh"
#include "backend/cuda/kernels/row_math.cuh"

namespace sluice::cuda {
namespace {

// xg[i, cols] = f16 of activation row src(order[i]) (the slot, or its token when tokens share
// x), or of glu(x, up) there when up is set; rows past the grouped slots (ids out of range)
// are zeros.
__global__ void gather_f16_kernel(const float* x, const float* up, Glu glu, const int32_t* order,
                                  int64_t slots, int64_t k, bool x_per_slot, int64_t cols,
                                  __half* xg) {
  pdl_wait();
  pdl_launch_dependents();
  const int64_t i = blockIdx.x;
  const int32_t slot = order[i];
  const bool ok = slot >= 0 && slot < slots;
  const int64_t row = x_per_slot ? slot : slot / k;
  for (int64_t c = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.y) * blockDim.x) {
    float v = 0.0f;
    if (ok) {
      v = x[row * cols + c];
      if (up) v = glu_gate(v, up[row * cols + c], glu);
    }
    xg[i * cols + c] = __float2half_rn(v);
  }
}

// What a block of the expert launch needs beyond the tile's arguments.
struct ExpertTiles {
  const ExpertItem* items;
  const int32_t* num_items;
  const int32_t* order;
  int64_t stride;                       // bytes from one expert's planar weight to the next
  const float* bias[kMaxRowsProducts];  // [experts, rows] per segment, or null
};

// grid: (chunks, row blocks of all segments); kThreads threads; QgemmSmem<T, BN> dynamic; the
// weights' L2 prefetch P (cp_async16_l2).
template <DType T, int BN, bool Wg, int P = 0>
__global__ __launch_bounds__(kThreads) void qgemm_experts_kernel(QgemmArgs a, ExpertTiles et) {
  constexpr int MT = kWarpTiles;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  auto& sm = *reinterpret_cast<QgemmSmem<T, BN>*>(smem_raw);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  pdl_wait();  // the chunks and the gathered activations come from the kernels before
  if (static_cast<int32_t>(blockIdx.x) >= *et.num_items) {
    pdl_launch_dependents();
    return;
  }
  const ExpertItem it = et.items[blockIdx.x];
  Segment seg = segment_of(a.segs, blockIdx.y, kBM);
  seg.w.codes += it.expert * et.stride;
  seg.w.headers += it.expert * et.stride;
  if (seg.w.hi) seg.w.hi += it.expert * et.stride;
  QgemmArgs chunk = a;  // the chunk's grouped rows [first, first + count)
  chunk.n = it.first + it.count;
  float acc[MT][BN / 8][4];
  if constexpr (Wg) {
    mainloop_wgmma<T, BN>(sm, chunk, seg, it.first, 0, a.cols / kStageCols, acc);
  } else {
    for (auto& m : acc)
      for (auto& n : m)
        for (float& v : n) v = 0.0f;
    mainloop_mma<P>(sm, chunk, seg, it.first, 0, a.cols / kStageCols, acc);
  }
  pdl_launch_dependents();
  const float* bias = et.bias[seg.index] ? et.bias[seg.index] + it.expert * seg.rows : nullptr;
  // acc[mt][nt]: {row g, tokens 2t, 2t+1}, {row g + 8, tokens 2t, 2t+1} of tiles mt, nt.
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int tok = nt * 8 + 2 * t + h;
      if (tok >= it.count) continue;
      const int64_t slot = et.order[it.first + tok];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
          const int64_t r = seg.r0 + tile_row0<Wg>(warp, mt) + g + 8 * hi;
          if (r < seg.rows)
            seg.y[slot * seg.rows + r] = acc[mt][nt][2 * hi + h] + (bias ? bias[r] : 0.0f);
        }
      }
    }
  }
}

// P: the weight copies' L2 prefetch (cp_async16_l2).
template <DType T, int BN, int P = 0>
void launch_tiles(const QgemmArgs& a, const ExpertTiles& et, int64_t chunks, bool wg,
                  cudaStream_t s) {
  static_assert(x_tiles_aligned<T, BN>(), "wgmma reads 1024-aligned x tiles");
  const size_t smem = sizeof(QgemmSmem<T, BN>);
  auto kernel = configured<qgemm_experts_kernel<T, BN, false, P>>(smem);
  if constexpr (BN == 64)
    if (wg) kernel = configured<qgemm_experts_kernel<T, BN, true>>(smem);
  const dim3 grid(static_cast<unsigned>(chunks),
                  static_cast<unsigned>(a.segs.first_block[a.segs.count]));
  launch_pdl_smem(kernel, grid, dim3(kThreads), smem, s, a, et);
}

// 16-slot chunks (decode steps: a few slots an expert, the weights' bytes read once) have the L2
// fetch `prefetch` bytes of a weight row at once, not the stage's 32 (tuning's expert_prefetch).
// H200, 64 sequences, 8-layer files: Qwen3-30B-A3B +2.9%, gpt-oss-20b +1.2% at 128.
template <DType T>
void launch_any_bn(int bn, const QgemmArgs& a, const ExpertTiles& et, int64_t chunks, bool wg,
                   int prefetch, cudaStream_t s) {
  if (bn == 16)
    return prefetch == 0     ? launch_tiles<T, 16>(a, et, chunks, wg, s)
           : prefetch == 256 ? launch_tiles<T, 16, 256>(a, et, chunks, wg, s)
                             : launch_tiles<T, 16, 128>(a, et, chunks, wg, s);
  if (bn == 32) return launch_tiles<T, 32>(a, et, chunks, wg, s);
  launch_tiles<T, 64>(a, et, chunks, wg, s);
}

size_t align256(size_t b) {
  return (b + 255) / 256 * 256;
}

}  // namespace

int qgemm_experts_tile(int64_t slots, int64_t num_experts) {
  const int64_t per_expert = (slots + num_experts - 1) / std::max<int64_t>(1, num_experts);
  return per_expert <= 16 ? 16 : per_expert <= 32 ? 32 : 64;
}

bool qgemm_experts_supported(const ExpertWeights& w) {
  return experts_supported(w.dtype) && w.cols % kStageCols == 0 && w.cols > 0 &&
         w.count <= kMaxGroupedExperts;
}

size_t qgemm_experts_scratch_bytes(int64_t n, int64_t k, const ExpertWeights& w) {
  const int64_t slots = n * k;
  const int bn = qgemm_experts_tile(slots, w.count);
  return align256(sizeof(int32_t) * slots) +
         align256(sizeof(ExpertItem) * max_items(slots, w.count, bn)) + align256(16) +
         align256(sizeof(__half) * slots * w.cols);
}

void qgemm_experts(const float* x, bool x_per_slot, const float* up, const Glu& glu, int64_t n,
                   const ExpertOutput* ps, int count, const int32_t* ids, int64_t k, void* scratch,
                   const QgemmOptions& o, cudaStream_t s) {
  SLUICE_ASSERT(count >= 1 && count <= kMaxExpertProducts, "1 or 2 expert products per launch");
  const ExpertWeights& w = ps[0].w;
  SLUICE_ASSERT(qgemm_experts_supported(w), "the expert GEMM takes quantized experts");
  const int64_t slots = n * k;
  if (slots <= 0 || w.rows <= 0) return;
  const int bn = qgemm_experts_tile(slots, w.count);
  const int64_t chunks = max_items(slots, w.count, bn);
  SLUICE_ASSERT(chunks <= 0x7fffffff, "too many expert chunks in one product");
  uint8_t* p = static_cast<uint8_t*>(scratch);
  int32_t* order = reinterpret_cast<int32_t*>(p);
  p += align256(sizeof(int32_t) * slots);
  ExpertItem* items = reinterpret_cast<ExpertItem*>(p);
  p += align256(sizeof(ExpertItem) * chunks);
  int32_t* num_items = reinterpret_cast<int32_t*>(p);
  p += align256(16);
  __half* xg = reinterpret_cast<__half*>(p);  // [slots, cols] in group order
  launch_pdl_smem(group_slots_kernel, dim3(1), dim3(1024), 4 * sizeof(int32_t) * w.count, s, ids,
                  slots, w.count, bn, order, items, num_items);
  const unsigned col_blocks = static_cast<unsigned>(std::min<int64_t>((w.cols + 255) / 256, 8));
  launch_pdl(gather_f16_kernel, dim3(static_cast<unsigned>(slots), col_blocks), dim3(256), s, x, up,
             glu, order, slots, k, x_per_slot, w.cols, xg);

  RowsProduct rps[kMaxExpertProducts];
  Weight first[kMaxExpertProducts];
  ExpertTiles et{items, num_items, order, w.stride, {}};
  for (int i = 0; i < count; ++i) {
    const ExpertWeights& wi = ps[i].w;
    SLUICE_ASSERT(
        wi.dtype == w.dtype && wi.cols == w.cols && wi.count == w.count && wi.stride == w.stride,
        "expert products in one launch share their dtype, columns and placement");
    first[i] = Weight::from_mapped(wi.dtype, wi.rows, wi.cols, wi.base);  // expert 0
    rps[i] = RowsProduct{&first[i], ps[i].y};
    et.bias[i] = ps[i].bias;
  }
  const QgemmArgs a{xg, slots, w.cols, make_segments(rps, count, kQuantBlock, kBM), nullptr, 0};
  const bool wg = o.wgmma;
  const int prefetch = o.expert_prefetch;
  switch (w.dtype) {
    case DType::Q4G32:
      return launch_any_bn<DType::Q4G32>(bn, a, et, chunks, wg, prefetch, s);
    case DType::Q8G32:
      return launch_any_bn<DType::Q8G32>(bn, a, et, chunks, wg, prefetch, s);
    case DType::MXFP4:
      return launch_any_bn<DType::MXFP4>(bn, a, et, chunks, wg, prefetch, s);
    case DType::Q6G16:
      return launch_any_bn<DType::Q6G16>(bn, a, et, chunks, wg, prefetch, s);
    default:
      return launch_any_bn<DType::Q8G16>(bn, a, et, chunks, wg, prefetch, s);
  }
}

}  // namespace sluice::cuda
