// CudaTuning from the switch table (common/env.h).
#include <algorithm>
#include <cstdlib>

#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/tuning.h"
#include "common/env.h"

namespace sluice::cuda {

CudaTuning CudaTuning::from_env() {
  using env::Switch;
  CudaTuning t{};
  t.attention_tiles = env::enabled(Switch::kCudaAttentionTiles);
  t.decode_tiles = env::enabled(Switch::kCudaDecodeTiles);
  t.decode_key_split = env::enabled(Switch::kCudaDecodeKeySplit);
  t.decode_max_pieces = std::max<int64_t>(0, env::integer(Switch::kCudaDecodeMaxPieces, 0));
  t.decode_cluster = env::enabled(Switch::kCudaDecodeCluster);
  t.graphs = env::enabled(Switch::kCudaGraphs);
  t.fold_norms = env::enabled(Switch::kCudaFoldNorms);
  // A value that does not parse reads as 0, as atoi read it.
  t.rows_stages = static_cast<int>(
      std::clamp<int64_t>(env::integer(Switch::kCudaRowsStages, 0), 0, kMaxRowsStages));
  // H100, 4-bit weights of 10240 x 2560: the weight-streaming kernel 20.7 us at 4 rows, 33.6 at
  // 8; the fused GEMM 21.5 at 5 (bench/results/gpu/gemv_rows/).
  t.gemv_max_rows = std::clamp<int64_t>(env::integer(Switch::kCudaGemvMaxRows, 4), 1, 64);
  t.sampling = env::enabled(Switch::kCudaSampling);
  t.qgemm_max_rows = std::max<int64_t>(0, env::integer(Switch::kCudaQgemmMaxRows, 0));
  t.qgemm_wgmma = env::enabled(Switch::kCudaQgemmWgmma);
  t.qgemm_cluster = env::enabled(Switch::kCudaQgemmCluster);
  t.qgemm_wave_plan = env::enabled(Switch::kCudaQgemmWavePlan);
  t.moe_gemm_slots =
      std::max(0.0, std::strtod(env::value(Switch::kCudaMoeGemmSlots).c_str(), nullptr));
  t.route_in_pass = env::enabled(Switch::kCudaRouteInPass);
  t.six_bit = env::enabled(Switch::kCudaSixBit);
  t.expert_prefetch = static_cast<int>(env::integer(Switch::kCudaExpertPrefetch, 128));
  t.upload_scatter = env::enabled(Switch::kCudaUploadScatter);
  t.download_staged = env::enabled(Switch::kCudaDownloadStaged);
  t.pair_launch = env::enabled(Switch::kCudaPairLaunch);
  t.pdl = pdl_enabled();  // once per process: the launchers read the same value
  return t;
}

}  // namespace sluice::cuda
