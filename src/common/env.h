#pragma once
// The one table of environment switches (name, default, meaning). Nothing else in src/ calls
// getenv: a caller reads its switch once (a member set at construction, or a function static).
#include <cstdint>
#include <span>
#include <string>

namespace sluice::env {

enum class Switch {
  kDebug,                // SLUICE_DEBUG
  kMaskDebug,            // SLUICE_MASK_DEBUG
  kProfile,              // SLUICE_PROFILE
  kDefaultModel,         // SLUICE_DEFAULT_MODEL
  kTestdata,             // SLUICE_TESTDATA
  kFixedDate,            // SLUICE_FIXED_DATE
  kWarmUpLarge,          // SLUICE_WARM_UP_LARGE
  kCpuAvx512,            // SLUICE_CPU_AVX512
  kCpuAmx,               // SLUICE_CPU_AMX
  kCpuAttnWholeSeq,      // SLUICE_CPU_ATTN_WHOLE_SEQ
  kCudaAttentionTiles,   // SLUICE_CUDA_ATTENTION_TILES
  kCudaDecodeTiles,      // SLUICE_CUDA_DECODE_TILES
  kCudaDecodeKeySplit,   // SLUICE_CUDA_DECODE_KEY_SPLIT
  kCudaDecodeMaxPieces,  // SLUICE_CUDA_DECODE_MAX_PIECES
  kCudaGraphs,           // SLUICE_CUDA_GRAPHS
  kCudaFoldNorms,        // SLUICE_CUDA_FOLD_NORMS
  kCudaRowsStages,       // SLUICE_CUDA_ROWS_STAGES
  kCudaGemvMaxRows,      // SLUICE_CUDA_GEMV_MAX_ROWS
  kCudaSampling,         // SLUICE_CUDA_SAMPLING
  kCudaQgemmMaxRows,     // SLUICE_CUDA_QGEMM_MAX_ROWS
  kCudaQgemmWgmma,       // SLUICE_CUDA_QGEMM_WGMMA
  kCudaQgemmCluster,     // SLUICE_CUDA_QGEMM_CLUSTER
  kCudaQgemmWavePlan,    // SLUICE_CUDA_QGEMM_WAVE_PLAN
  kCudaMoeGemmSlots,     // SLUICE_CUDA_MOE_GEMM_SLOTS
  kCudaExpertPrefetch,   // SLUICE_CUDA_EXPERT_PREFETCH
  kCudaRouteInPass,      // SLUICE_CUDA_ROUTE_IN_PASS
  kCudaDecodeCluster,    // SLUICE_CUDA_DECODE_CLUSTER
  kCudaSixBit,           // SLUICE_CUDA_SIX_BIT
  kCudaPdl,              // SLUICE_CUDA_PDL
  kCudaUploadScatter,    // SLUICE_CUDA_UPLOAD_SCATTER
  kCudaDownloadStaged,   // SLUICE_CUDA_DOWNLOAD_STAGED
  kCudaPairLaunch,       // SLUICE_CUDA_PAIR_LAUNCH
  kCount,
};

struct SwitchInfo {
  Switch id;
  const char* name;           // "SLUICE_CPU_AMX"
  const char* default_value;  // the value when unset or empty ("" = off / none)
  const char* meaning;        // one line
};

// Every switch, in Switch order.
std::span<const SwitchInfo> switches();
const SwitchInfo& info(Switch s);

// The environment's value when set and non-empty, else the default (reads the environment now).
std::string value(Switch s);
// value() as an on/off switch: anything but "" and "0" is on.
bool enabled(Switch s);
// value() as an integer (fallback when it does not parse).
int64_t integer(Switch s, int64_t fallback);

}  // namespace sluice::env
