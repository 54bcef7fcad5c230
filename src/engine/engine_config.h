#pragma once
// Engine knobs (the `--max-num-seqs`, `--kv-cache-memory`, ... flags of `run` and `serve`).
#include <cstdint>
#include <string>

#include "common/status.h"

namespace sluice {

class Backend;

struct EngineConfig {
  // Token budget of one step (prefill chunks + decodes); 0: the device's default
  // (default_step_tokens: 512 on the CPU, 4096 on a GPU).
  int32_t max_num_batched_tokens = 0;
  int32_t max_num_seqs = 64;   // sequences running at once
  int32_t block_size = 16;     // tokens per KV block
  int64_t kv_cache_bytes = 0;  // KV budget; 0: kv_cache_fraction of RAM
  double kv_cache_fraction = 0.1;
  bool enable_prefix_caching = true;
  // Sliding-window layers give back the KV blocks their window has left (false: they keep every
  // block, as full-attention layers do).
  bool release_window_blocks = true;
  bool deterministic = false;  // batch-invariant execution (see Backend::set_batch_invariant)
  int num_threads = 0;         // CPU threads; 0: all cores
  bool cpu_int8_activations = false;    // CPU: int8 activations for Q4G32/Q8G32 (make_cpu_backend)
  std::string device = "auto";          // cpu | cuda | auto (CUDA when a GPU and a CUDA build)
  std::string kv_cache_dtype = "auto";  // auto (the backend's own: f16 on CPU and CUDA) | f32 | f16
  double gpu_memory_utilization = 0.9;  // device backends: share of GPU memory sluice may use
  int32_t max_model_len = 0;            // context limit; 0: the model's
  uint64_t seed = 0;                    // entropy for requests without a seed; 0: random_device
  // Hybrid models: memory for prefix snapshots of the recurrent state (-1: an eighth of the KV
  // budget; 0: none, so no prefix reuse), and a snapshot every this many blocks of a prefill
  // besides the one at the end of each prompt's last full block (0: that one only).
  int64_t state_cache_bytes = -1;
  int32_t state_snapshot_interval = 64;
  // Vision models: llama.cpp's projector GGUF (the image encoder; "": none, or the model
  // directory's own tower: engine_vision.h), and the memory for encoder outputs cached by image
  // content.
  std::string mmproj;
  int64_t encoder_cache_bytes = int64_t{512} << 20;

  Status validate() const;
};

// The step budget a backend gets unless --max-num-batched-tokens says otherwise: 512 where the
// weights stay in host memory (CPU: larger steps only delay decodes behind prefill chunks), 4096
// on a GPU (H200, 8B shape, 64 sequences: +6 to +13% output tok/s over 512;
// docs/PERFORMANCE_GPU.md).
int32_t default_step_tokens(bool host_resident);

int64_t physical_ram_bytes();

// "2GiB", "512MB", "1073741824" -> bytes (flag: named in the error).
Result<int64_t> parse_byte_size(const std::string& text, const std::string& flag);
// "2GiB", "512MB", "1073741824" -> bytes; "0.2" (a fraction of physical RAM) -> sets fraction.
Status parse_kv_cache_memory(const std::string& text, EngineConfig& config);

// --kv-cache-dtype on a backend: "auto" keeps its own, "f32" / "f16" are asked of it (an error
// when it has no such cache).
Status apply_kv_cache_dtype(const std::string& dtype, Backend& backend);

}  // namespace sluice
