#include "common/env.h"

#include <cstdlib>

#include "common/assert.h"

namespace sluice::env {

namespace {
// clang-format off
constexpr SwitchInfo kSwitches[] = {
  {Switch::kDebug, "SLUICE_DEBUG", "",
   "print request fields the API ignores to stderr"},
  {Switch::kMaskDebug, "SLUICE_MASK_DEBUG", "",
   "print one line per computed grammar mask node (id, counts, ms) to stderr"},
  {Switch::kProfile, "SLUICE_PROFILE", "",
   "file that gets where the time goes (engine phases, CUDA op times) every ~2 s"},
  {Switch::kDefaultModel, "SLUICE_DEFAULT_MODEL", "",
   "model path used when -m is not given (instead of models/default.gguf)"},
  {Switch::kTestdata, "SLUICE_TESTDATA", "",
   "shared test data root for make-model's default tokenizers (../shared/testdata)"},
  {Switch::kFixedDate, "SLUICE_FIXED_DATE", "",
   "YYYY-MM-DD that `sluice template` and served prompts render as today (reproducible tests)"},
  {Switch::kWarmUpLarge, "SLUICE_WARM_UP_LARGE", "1",
   "0: device backends warm up without a full-budget step (A/B)"},
  {Switch::kCpuAvx512, "SLUICE_CPU_AVX512", "1",
   "0: 256-bit batched quantized kernels even where AVX512-VNNI is present"},
  {Switch::kCpuAmx, "SLUICE_CPU_AMX", "1",
   "0: AVX-512 batched quantized kernels even where AMX-INT8 is present"},
  {Switch::kCpuAttnWholeSeq, "SLUICE_CPU_ATTN_WHOLE_SEQ", "1",
   "0: CPU attention tiles never span KV heads (A/B)"},
  {Switch::kCudaAttentionTiles, "SLUICE_CUDA_ATTENTION_TILES", "1",
   "0: prefill chunks use the per-token attention kernel too (A/B)"},
  {Switch::kCudaDecodeTiles, "SLUICE_CUDA_DECODE_TILES", "1",
   "0: decode-only batches plan attention as mixed ones do (A/B)"},
  {Switch::kCudaDecodeKeySplit, "SLUICE_CUDA_DECODE_KEY_SPLIT", "1",
   "0: one-token attention tiles keep one warp per 16 rows (A/B)"},
  {Switch::kCudaDecodeMaxPieces, "SLUICE_CUDA_DECODE_MAX_PIECES", "0",
   "pieces a decode's context splits into across blocks, at most (0: about sqrt(3 x its 64-key chunks))"},
  {Switch::kCudaGraphs, "SLUICE_CUDA_GRAPHS", "1",
   "0: no CUDA graph recording; every step launches its kernels (A/B)"},
  {Switch::kCudaFoldNorms, "SLUICE_CUDA_FOLD_NORMS", "1",
   "0: norms and residual adds stay separate ops (A/B)"},
  {Switch::kCudaRowsStages, "SLUICE_CUDA_ROWS_STAGES", "4",
   "shared-memory stages per thread of the weight-streaming products, 0-4 (0: registers)"},
  {Switch::kCudaGemvMaxRows, "SLUICE_CUDA_GEMV_MAX_ROWS", "4",
   "most activation rows for the weight-streaming products of quantized weights (1-64; more: the fused GEMM)"},
  {Switch::kCudaSampling, "SLUICE_CUDA_SAMPLING", "1",
   "0: the engine samples host copies of the logits (A/B)"},
  {Switch::kCudaQgemmMaxRows, "SLUICE_CUDA_QGEMM_MAX_ROWS", "128",
   "most activation rows for the fused quantized tensor-core GEMM (0: off)"},
  {Switch::kCudaQgemmWgmma, "SLUICE_CUDA_QGEMM_WGMMA", "1",
   "0: the fused GEMM uses mma.sync instead of warpgroup MMAs"},
  {Switch::kCudaQgemmCluster, "SLUICE_CUDA_QGEMM_CLUSTER", "1",
   "0: no thread-block clusters for the fused GEMM's K splits (A/B)"},
  {Switch::kCudaQgemmWavePlan, "SLUICE_CUDA_QGEMM_WAVE_PLAN", "1",
   "0: the fused GEMM's earlier per-weight split plan (A/B)"},
  {Switch::kCudaMoeGemmSlots, "SLUICE_CUDA_MOE_GEMM_SLOTS", "1",
   "slots per expert on average (fractions too) from which MoE products run on the expert GEMM (0: never)"},
  {Switch::kCudaExpertPrefetch, "SLUICE_CUDA_EXPERT_PREFETCH", "128",
   "L2 prefetch bytes of the expert GEMM's 16-slot weight copies: 128, 256 or 0 (none; A/B)"},
  {Switch::kCudaRouteInPass, "SLUICE_CUDA_ROUTE_IN_PASS", "1",
   "0: MoE routing in its own launch, not in the experts' activation pass (A/B)"},
  {Switch::kCudaDecodeCluster, "SLUICE_CUDA_DECODE_CLUSTER", "1",
   "0: a split attention context's pieces merge by global partials and a ticket, not in a cluster (A/B)"},
  {Switch::kCudaSixBit, "SLUICE_CUDA_SIX_BIT", "1",
   "0: GGUF Q6_K loads as Q8G16 (1.25 bytes a weight), not Q6G16 (0.875), on CUDA (A/B)"},
  {Switch::kCudaPdl, "SLUICE_CUDA_PDL", "1",
   "0: no programmatic dependent launch; each kernel waits for the previous one (A/B)"},
  {Switch::kCudaUploadScatter, "SLUICE_CUDA_UPLOAD_SCATTER", "1",
   "0: a step's small inputs go up in one copy each, not one kernel reading page-locked memory (A/B)"},
  {Switch::kCudaDownloadStaged, "SLUICE_CUDA_DOWNLOAD_STAGED", "1",
   "0: results up to 4 MB come down straight to pageable memory, not through page-locked staging (A/B)"},
  {Switch::kCudaPairLaunch, "SLUICE_CUDA_PAIR_LAUNCH", "1",
   "0: one-row products of Q4 beside Q6/Q8 weights (q/k beside v) in a launch each, not one (A/B)"},
};
// clang-format on
static_assert(std::size(kSwitches) == static_cast<size_t>(Switch::kCount));
}  // namespace

std::span<const SwitchInfo> switches() {
  return kSwitches;
}

const SwitchInfo& info(Switch s) {
  const SwitchInfo& i = kSwitches[static_cast<size_t>(s)];
  SLUICE_ASSERT(i.id == s, "env switch table out of order");
  return i;
}

std::string value(Switch s) {
  const SwitchInfo& i = info(s);
  const char* v = std::getenv(i.name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(i.default_value);
}

bool enabled(Switch s) {
  const std::string v = value(s);
  return !v.empty() && v != "0";
}

int64_t integer(Switch s, int64_t fallback) {
  const std::string v = value(s);
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  return v.empty() || *end != '\0' ? fallback : static_cast<int64_t>(x);
}

}  // namespace sluice::env
