#pragma once
// Every CUDA A/B switch and tuning knob, read once when a backend is made (their names, defaults
// and meanings: common/env.h); the backend hands each launcher the fields it needs.
#include <cstdint>

namespace sluice::cuda {

struct CudaTuning {
  bool attention_tiles;       // prefill chunks on the tensor-core attention tiles
  bool decode_tiles;          // decode-only batches on the tiles, one per sequence
  bool decode_key_split;      // one-token tiles split their keys over the warps
  int64_t decode_max_pieces;  // most blocks a decode's context splits over (0: balanced)
  bool decode_cluster;        // a context's pieces merge in a thread-block cluster
  bool graphs;                // decode steps recorded as CUDA graphs
  bool fold_norms;            // norms and residual adds folded into the products
  int rows_stages;            // weight-streaming products' shared-memory stages (0: registers)
  int64_t gemv_max_rows;      // most activation rows streaming quantized weights
  bool sampling;              // sample_rows on the device
  int64_t qgemm_max_rows;     // most activation rows for the fused quantized GEMM (0: never)
  bool qgemm_wgmma;           // the fused GEMM as warpgroup MMAs, where the GPU has them
  bool qgemm_cluster;         // the fused GEMM's K splits summed in thread-block clusters
  bool qgemm_wave_plan;       // the fused GEMM's one plan per launch (else per weight)
  double moe_gemm_slots;      // slots per expert from which experts run on the GEMM (0: never)
  bool route_in_pass;         // MoE routing inside the experts' activation pass
  int expert_prefetch;        // the expert GEMM's 16-slot weight copies' L2 prefetch (0: none)
  bool six_bit;               // Q6_K weights load as Q6G16 (else Q8G16)
  bool pdl;                   // programmatic dependent launch (kernels/pdl.cuh reads it)
  bool upload_scatter;        // a step's small inputs written by one kernel from pinned memory
  bool download_staged;       // to_host's small copies through page-locked staging
  bool pair_launch;           // one-row Q4 products beside Q6/Q8 ones in one launch

  // From the environment (unset or empty: the table's default).
  static CudaTuning from_env();
};

}  // namespace sluice::cuda
