#include "cli/engine_flags.h"

#include <CLI/CLI.hpp>

namespace sluice {

void add_engine_flags(CLI::App& cmd, EngineFlags& f) {
  EngineConfig& c = f.config;
  cmd.add_option("--max-num-batched-tokens", c.max_num_batched_tokens,
                 "Token budget of one engine step (prefill chunks + decodes); default 512 on "
                 "the CPU, 4096 on a GPU");
  cmd.add_option("--max-num-seqs", c.max_num_seqs, "Sequences running at once")
      ->capture_default_str();
  cmd.add_option("--block-size", c.block_size, "Tokens per KV-cache block")->capture_default_str();
  cmd.add_option("--kv-cache-memory", f.kv_cache_memory,
                 "KV-cache budget: bytes (2GiB, 512MB) or a fraction of RAM (default 0.1)");
  cmd.add_option("--kv-cache-dtype", c.kv_cache_dtype,
                 "KV-cache element type: auto (f16, as llama.cpp: half the memory and attention "
                 "reads of f32), f16 or f32 (CPU: K/V kept exact)")
      ->check(CLI::IsMember({"auto", "f32", "f16"}))
      ->capture_default_str();
  cmd.add_flag("--no-prefix-cache", f.no_prefix_cache, "Disable prefix caching");
  cmd.add_flag("--keep-window-blocks", f.keep_window_blocks,
               "Sliding-window layers keep every KV block, as full-attention layers do (by "
               "default they give back the blocks their window has left)");
  cmd.add_flag("--deterministic", c.deterministic,
               "Batch-invariant execution: a request's tokens do not depend on its batch");
  cmd.add_option("--max-model-len", c.max_model_len, "Context limit (default: the model's)");
  cmd.add_option("--threads", c.num_threads, "CPU threads (default: all cores)");
  cmd.add_flag("--cpu-int8-activations", c.cpu_int8_activations,
               "CPU: multiply 4-bit and Q8G32 weights with int8 activations instead of int16 "
               "(llama.cpp's precision; about 2x faster 4-bit batches on AVX2)");
  cmd.add_option("--device", c.device, "cpu, cuda (first GPU) or auto (CUDA when a GPU is present)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd.add_option("--state-cache-memory", f.state_cache_memory,
                 "Hybrid models: memory for prefix snapshots of the recurrent state (bytes; "
                 "default an eighth of the KV budget; 0: no prefix reuse)");
  cmd.add_option("--state-snapshot-interval", c.state_snapshot_interval,
                 "Hybrid models: also snapshot the state every N blocks of a long prefill (0: "
                 "only at the end of each prompt's last full block)")
      ->capture_default_str();
  cmd.add_option("--mmproj", c.mmproj,
                 "Vision models: llama.cpp's multimodal projector GGUF (the image encoder)");
  cmd.add_option("--encoder-cache-memory", f.encoder_cache_memory,
                 "Vision models: memory for image encoder outputs cached by content (default "
                 "512MiB)");
  cmd.add_option("--gpu-memory-utilization", c.gpu_memory_utilization,
                 "Share of GPU memory for weights + KV cache (KV gets what the weights leave)")
      ->capture_default_str();
}

Result<EngineConfig> engine_config_from(const EngineFlags& f) {
  EngineConfig c = f.config;
  c.enable_prefix_caching = !f.no_prefix_cache;
  c.release_window_blocks = !f.keep_window_blocks;
  if (!f.kv_cache_memory.empty())
    SLUICE_RETURN_IF_ERROR(parse_kv_cache_memory(f.kv_cache_memory, c));
  if (!f.state_cache_memory.empty()) {
    SLUICE_ASSIGN_OR_RETURN(c.state_cache_bytes,
                            parse_byte_size(f.state_cache_memory, "--state-cache-memory"));
  }
  if (!f.encoder_cache_memory.empty()) {
    SLUICE_ASSIGN_OR_RETURN(c.encoder_cache_bytes,
                            parse_byte_size(f.encoder_cache_memory, "--encoder-cache-memory"));
  }
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace sluice
