// The fused quantized GEMM for dense products (the tile: qgemm_tile.cuh):
// y[n, rows] = x[n, cols] . W^T for batched products.
//
// Several weights of one dtype and column count (q/k/v, gate/up) share a launch: their blocks of
// rows are laid end to end over grid.y (rows_product.cuh's segments). Few blocks and long K: K is
// split over grid.z and the partial sums are added in split order, through distributed shared
// memory when the splits of a tile form a thread-block cluster (sm_90), else through a global
// scratch buffer and a second kernel. With clusters the split count is planned per launch from
// the occupancy API: the fewest waves of resident clusters times the stages each block walks (up
// to 16 splits on the H100).
#include <cooperative_groups.h>

#include <algorithm>

#include "backend/cuda/kernels/qgemm_tile.cuh"

namespace sluice::cuda {
namespace {

constexpr int kMinStagesPerSplit = 4;
constexpr int kMaxSplits = 16;  // a cluster: 8 portable, 16 allowed on the H100 (non-portable)
constexpr int kPortableSplits = 8;
constexpr int kSplitOverhead = 2;    // stages' worth of a block's pipeline fill and split sum
constexpr int kRedStride = kBM + 4;  // floats per token of the reduction tile (no bank conflicts)

namespace cg = cooperative_groups;

// The splits of one tile, each block's partial sums in its shared memory: block `rank` of the
// cluster adds its share of the tile's elements over all ranks, in rank order, and stores them.
template <int BN>
__device__ __forceinline__ void cluster_sum_store(float* red, int splits, const Segment& seg,
                                                  int64_t t0, int64_t n) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cg::cluster_group cluster = cg::this_cluster();
  cluster.sync();  // every rank's partial tile is in its shared memory
  const int rank = static_cast<int>(cluster.block_rank());
  constexpr int kElems = BN * kBM;
  const int per = (kElems + splits - 1) / splits;
  const int e1 = min(kElems, (rank + 1) * per);
  for (int e = rank * per + static_cast<int>(threadIdx.x); e < e1; e += kThreads) {
    const int tok = e / kBM, row = e % kBM;
    const int64_t r = seg.r0 + row;
    if (t0 + tok >= n || r >= seg.rows) continue;
    float v[kMaxSplits];
#pragma unroll
    for (int z = 0; z < kMaxSplits; ++z)
      if (z < splits) v[z] = *cluster.map_shared_rank(red + tok * kRedStride + row, z);
    float sum = 0.0f;
#pragma unroll
    for (int z = 0; z < kMaxSplits; ++z)
      if (z < splits) sum += v[z];
    if (seg.bias) sum += seg.bias[r];
    seg.y[(t0 + tok) * seg.rows + r] = sum;
  }
  cluster.sync();  // no block leaves while another still reads its shared memory
#endif
}

// grid: (token tiles, row blocks of all segments, K splits); kThreads threads; QgemmSmem<T, BN>
// dynamic. Cluster: the splits of a tile form one cluster (1, 1, splits) and sum through
// distributed shared memory; otherwise split z writes a.partial[z] (one segment per launch).
template <DType T, int BN, bool Cluster, bool Wg>
__global__ __launch_bounds__(kThreads) void qgemm_kernel(QgemmArgs a) {
  constexpr int MT = kWarpTiles;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  auto& sm = *reinterpret_cast<QgemmSmem<T, BN>*>(smem_raw);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * BN;
  const Segment seg = segment_of(a.segs, blockIdx.y, kBM);
  const int64_t total = a.cols / kStageCols;
  const int64_t k0 = blockIdx.z * a.stages_per_split;
  const int64_t k1 = min(total, k0 + a.stages_per_split);

  float acc[MT][BN / 8][4];  // wgmma: its first step writes without reading
  pdl_wait();                // every stage holds activations the kernel before wrote
  if constexpr (Wg) {
    mainloop_wgmma<T, BN>(sm, a, seg, t0, k0, k1 - k0, acc);
  } else {
    for (auto& m : acc)
      for (auto& n : m)
        for (float& v : n) v = 0.0f;
    mainloop_mma(sm, a, seg, t0, k0, k1 - k0, acc);
  }
  pdl_launch_dependents();

  // acc[mt][nt]: {row g, tokens 2t, 2t+1}, {row g + 8, tokens 2t, 2t+1} of tiles mt, nt.
  if constexpr (Cluster) {
    static_assert(sizeof(float) * BN * kRedStride <= sizeof(QgemmSmem<T, BN>),
                  "the reduction tile reuses the stage buffers");
    float* red = reinterpret_cast<float*>(smem_raw);  // [BN tokens][kRedStride]
    __syncthreads();                                  // every warp is done with the stage buffers
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = tile_row0<Wg>(warp, mt) + g + (e >= 2 ? 8 : 0);
          red[(nt * 8 + 2 * t + (e & 1)) * kRedStride + row] = acc[mt][nt][e];
        }
    cluster_sum_store<BN>(red, static_cast<int>(gridDim.z), seg, t0, a.n);
    return;
  }
  float* y = gridDim.z > 1 ? a.partial + static_cast<int64_t>(blockIdx.z) * a.n * seg.rows : seg.y;
  const float* bias = gridDim.z > 1 ? nullptr : seg.bias;  // split sums: sum_splits_kernel's
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    const int64_t rg = seg.r0 + tile_row0<Wg>(warp, mt) + g;
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t tok = t0 + nt * 8 + 2 * t + (e & 1);
        const int64_t r = rg + (e >= 2 ? 8 : 0);
        if (tok < a.n && r < seg.rows)
          y[tok * seg.rows + r] = acc[mt][nt][e] + (bias ? bias[r] : 0.0f);
      }
    }
  }
}

// y[i] = sum over splits of partial[z][i], in split order, + bias[i % rows] (or none).
__global__ void sum_splits_kernel(const float* partial, int64_t count, int splits, float* y,
                                  const float* bias, int64_t rows) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  float s = 0.0f;
  for (int z = 0; z < splits; ++z) s += partial[z * count + i];
  y[i] = bias ? s + bias[i % rows] : s;
}

// Split sums through clusters: on sm_90 and later unless the options turn them off (A/B).
bool cluster_sums(const QgemmOptions& o) {
  return device_has_clusters() && o.cluster;
}

// Tokens per block (the kernel's BN) for n activation rows.
int tile_tokens(int64_t n) {
  return n <= 16 ? 16 : n <= 32 ? 32 : 64;
}

// Token tiles x row blocks of a launch over products ps[0 .. count).
int64_t launch_blocks(int64_t n, const RowsProduct* ps, int count) {
  const int64_t bn = tile_tokens(n);
  int64_t row_blocks = 0;
  for (int i = 0; i < count; ++i) row_blocks += (ps[i].w->rows + kBM - 1) / kBM;
  return (n + bn - 1) / bn * row_blocks;
}

// K splits of one product's launch (`blocks` tiles) when its splits are summed in global memory,
// or without the wave plan (QgemmOptions): about two blocks per SM, at most a portable cluster.
int plan_splits(int64_t blocks, int64_t stages) {
  const int64_t want = (2 * sm_count() + blocks - 1) / blocks;
  return static_cast<int>(
      std::clamp<int64_t>(std::min(want, stages / kMinStagesPerSplit), 1, kPortableSplits));
}

using QgemmKernel = void (*)(QgemmArgs);

// The kernel for a launch: split sums in clusters or not, warpgroup MMAs or mma.sync.
template <DType T, int BN>
QgemmKernel pick_kernel(bool cluster, bool wg) {
  const size_t smem = sizeof(QgemmSmem<T, BN>);
  // Warpgroup MMAs for 64-token tiles only: at 16 and 32 tokens they measured 0-20% slower than
  // mma.sync on the Llama-3-8B shapes, at 64 tokens 4-8% faster (docs/PERFORMANCE_GPU.md).
  if constexpr (BN == 64) {
    if (wg)
      return cluster ? configured<qgemm_kernel<T, BN, true, true>>(smem)
                     : configured<qgemm_kernel<T, BN, false, true>>(smem);
  }
  return cluster ? configured<qgemm_kernel<T, BN, true, false>>(smem)
                 : configured<qgemm_kernel<T, BN, false, false>>(smem);
}

// How many clusters of `splits` blocks (blocks, for 1) of the kernel run at once on this GPU
// (the occupancy API, once per kernel and size).
template <DType T, int BN>
int64_t resident_units(int splits, bool wg) {
  static int64_t cache[2][kMaxSplits + 1] = {};
  int64_t& r = cache[wg ? 1 : 0][splits];
  if (r == 0) {
    const QgemmKernel kernel = pick_kernel<T, BN>(splits > 1, wg);
    const size_t smem = sizeof(QgemmSmem<T, BN>);
    int count = 0;
    if (splits == 1) {
      SLUICE_CUDA_CHECK(
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&count, kernel, kThreads, smem));
      count *= sm_count();
    } else {
      cudaLaunchConfig_t cfg{};
      cfg.gridDim = dim3(1, 1, static_cast<unsigned>(splits));
      cfg.blockDim = dim3(kThreads);
      cfg.dynamicSmemBytes = smem;
      cudaLaunchAttribute attr{};
      attr.id = cudaLaunchAttributeClusterDimension;
      attr.val.clusterDim.x = 1, attr.val.clusterDim.y = 1;
      attr.val.clusterDim.z = static_cast<unsigned>(splits);
      cfg.attrs = &attr;
      cfg.numAttrs = 1;
      SLUICE_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&count, kernel, &cfg));
    }
    r = std::max(1, count);
  }
  return r;
}

// K splits of a cluster-summed launch of `tiles` tiles over `stages` stages: the fewest waves
// of resident clusters (of resident blocks, unsplit) times (stages per block + kSplitOverhead),
// each split at least kMinStagesPerSplit stages; ties go to fewer splits. Depends on the
// launch's shapes and this GPU only.
template <DType T, int BN>
int plan_cluster_splits(int64_t tiles, int64_t stages, bool wg) {
  static const int64_t cap = qgemm_wgmma_available() ? kMaxSplits : kPortableSplits;  // H100
  const int64_t most = std::clamp<int64_t>(stages / kMinStagesPerSplit, 1, cap);
  int best = 1;
  int64_t best_cost = INT64_MAX;
  for (int64_t s = 1; s <= most; ++s) {
    const int64_t per = (stages + s - 1) / s, used = (stages + per - 1) / per;
    if (used != s) continue;  // the same splits as a smaller count
    const int64_t units = resident_units<T, BN>(static_cast<int>(s), wg);
    const int64_t cost = (tiles + units - 1) / units * (per + kSplitOverhead);
    if (cost < best_cost) best = static_cast<int>(s), best_cost = cost;
  }
  return best;
}

// splits 0: planned here (plan_cluster_splits), the split sums in clusters.
template <DType T, int BN>
void launch(const QgemmArgs& args, int splits, const QgemmOptions& o, cudaStream_t s) {
  const bool wg = o.wgmma;
  static_assert(x_tiles_aligned<T, BN>(), "wgmma reads 1024-aligned x tiles");
  QgemmArgs a = args;
  const int64_t stages = a.cols / kStageCols;
  if (splits == 0) {
    const int64_t tiles = (a.n + BN - 1) / BN * a.segs.first_block[a.segs.count];
    splits = plan_cluster_splits<T, BN>(tiles, stages, wg);
    a.stages_per_split = (stages + splits - 1) / splits;
  }
  const bool cluster = splits > 1 && cluster_sums(o);
  const QgemmKernel kernel = pick_kernel<T, BN>(cluster, wg);
  const dim3 grid(static_cast<unsigned>((a.n + BN - 1) / BN),
                  static_cast<unsigned>(a.segs.first_block[a.segs.count]),
                  static_cast<unsigned>(splits));
  launch_pdl_cluster(kernel, grid, dim3(kThreads), sizeof(QgemmSmem<T, BN>), cluster ? splits : 1,
                     s, a);
}

template <DType T>
void launch_any_bn(const QgemmArgs& a, int splits, const QgemmOptions& o, cudaStream_t s) {
  switch (tile_tokens(a.n)) {
    case 16:
      return launch<T, 16>(a, splits, o, s);
    case 32:
      return launch<T, 32>(a, splits, o, s);
    default:
      return launch<T, 64>(a, splits, o, s);
  }
}

// One launch over products ps[0 .. count) (same dtype, cols and splits; 0: planned at launch for
// cluster sums); partial: the global split sums' scratch (count 1 only).
void launch_products(const uint16_t* x, int64_t n, const RowsProduct* ps, int count, int splits,
                     void* partial, const QgemmOptions& o, cudaStream_t s) {
  const Weight& w = *ps[0].w;
  const Segments segs = make_segments(ps, count, kQuantBlock, kBM);
  if (segs.first_block[count] == 0) return;
  const QgemmArgs a{reinterpret_cast<const __half*>(x),
                    n,
                    w.cols,
                    segs,
                    static_cast<float*>(partial),
                    splits > 0 ? (w.cols / kStageCols + splits - 1) / splits : 0};
  switch (w.dtype) {
    case DType::Q4G32:
      return launch_any_bn<DType::Q4G32>(a, splits, o, s);
    case DType::Q8G32:
      return launch_any_bn<DType::Q8G32>(a, splits, o, s);
    case DType::Q8G16:
      return launch_any_bn<DType::Q8G16>(a, splits, o, s);
    case DType::MXFP4:
      return launch_any_bn<DType::MXFP4>(a, splits, o, s);
    case DType::Q6G16:
      return launch_any_bn<DType::Q6G16>(a, splits, o, s);
    default:
      SLUICE_ASSERT(false, "qgemm takes quantized weights");
  }
}

}  // namespace

bool qgemm_wgmma_available() {
  int dev = 0, major = 0, minor = 0;
  SLUICE_CUDA_CHECK(cudaGetDevice(&dev));
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  return major == 9 && minor == 0;  // the sm_90a code; other GPUs run the compute_80 PTX
}

bool qgemm_supported(const Weight& w) {
  return is_quantized(w.dtype) && w.cols % kStageCols == 0 && w.cols > 0;
}

size_t qgemm_scratch_bytes(int64_t n, const Weight& w, const QgemmOptions& o) {
  const RowsProduct one{&w, nullptr};
  const int splits = plan_splits(launch_blocks(n, &one, 1), w.cols / kStageCols);
  return splits > 1 && !cluster_sums(o) ? static_cast<size_t>(splits) * n * w.rows * sizeof(float)
                                        : 0;
}

void qgemm_many(const uint16_t* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                const QgemmOptions& o, cudaStream_t s) {
  if (n <= 0) return;
  const int64_t stages = ps[0].w->cols / kStageCols;
  if (o.wave_plan && cluster_sums(o)) {  // one launch, planned for all its tiles
    launch_products(x, n, ps, count, 0, nullptr, o, s);
    return;
  }
  auto splits_alone = [&](int i) { return plan_splits(launch_blocks(n, ps + i, 1), stages); };
  for (int i = 0; i < count;) {
    const int splits = splits_alone(i);
    if (splits > 1 && !cluster_sums(o)) {  // partial sums in scratch, one product at a time
      launch_products(x, n, ps + i, 1, splits, scratch, o, s);
      const int64_t elems = n * ps[i].w->rows;
      launch_pdl(sum_splits_kernel, dim3(static_cast<unsigned>((elems + 255) / 256)), dim3(256), s,
                 static_cast<const float*>(scratch), elems, splits, ps[i].y, ps[i].bias,
                 ps[i].w->rows);
      ++i;
      continue;
    }
    int j = i + 1;  // the following products with the same splits share the launch
    while (j < count && splits_alone(j) == splits) ++j;
    launch_products(x, n, ps + i, j - i, splits, nullptr, o, s);
    i = j;
  }
}

}  // namespace sluice::cuda
