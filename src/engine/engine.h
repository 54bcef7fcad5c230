#pragma once
// The engine: one thread that owns the scheduler, the KV cache and the backend, and runs one
// forward per step over every scheduled token (prefill chunks and decodes mixed). Clients submit
// native requests from any thread and read each request's outputs from its RequestStream.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "common/status.h"
#include "engine/encoder_cache.h"
#include "engine/engine_config.h"
#include "engine/mrope_positions.h"
#include "engine/request.h"
#include "engine/request_error.h"
#include "engine/scheduler.h"
#include "kv/kv_cache_manager.h"
#include "kv/state_pool.h"
#include "model/kv_layout.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "model/model_runner.h"
#include "model/vision/vision_tower.h"

namespace sluice {

struct EngineMetrics {
  int64_t num_running = 0, num_waiting = 0;
  int64_t kv_blocks_total = 0, kv_blocks_used = 0;
  int64_t prefix_queries = 0, prefix_hits = 0;  // prompt tokens looked up / found cached
  int64_t prompt_tokens = 0, generated_tokens = 0, computed_tokens = 0;
  int64_t num_preemptions = 0, num_steps = 0;
  // Hybrid models: recurrent-state slots of running sequences, and prefix snapshots.
  int64_t state_slots_total = 0, state_slots_used = 0;
  int64_t state_snapshots_total = 0, state_snapshots_held = 0;
  // Vision models: images run through the encoder, encoder-cache hits, the cache's size.
  bool vision = false;  // the model has a vision tower (its encoder cache may be off)
  int64_t images_encoded = 0, encoder_cache_hits = 0;
  int64_t encoder_cache_bytes = 0, encoder_cache_entries = 0, encoder_cache_budget = 0;
};

class Engine {
 public:
  // The model must outlive the engine.
  static Result<std::unique_ptr<Engine>> create(const Model& model, const EngineConfig& config);
  ~Engine();  // shut_down()

  // Validates (params, lengths) and queues the request; the stream yields its outputs.
  // Refused: kInvalidParameter naming the field, kUnavailable once shutting down.
  RequestResult<std::shared_ptr<RequestStream>> submit(EngineRequest request);
  // Finishes the request with "abort" at the next step; its blocks return to the pool.
  void abort(const std::string& request_id);
  // Stops the engine thread: live requests finish with "abort", later submits are kUnavailable.
  void shut_down();

  EngineMetrics metrics() const;
  const EngineConfig& config() const { return config_; }
  // The backend the engine runs on ("cpu", "cuda: NVIDIA H100 ..."): what --device auto picked.
  std::string device_name() const { return backend_->name(); }
  int32_t max_model_len() const { return max_model_len_; }
  // The longest sequence (prompt + output) the KV cache holds on its own.
  int64_t kv_capacity_tokens() const;
  // Vision models (--mmproj or a VLM directory: engine_vision.h): the image encoder whose input
  // EngineRequest::images must match; null for a text-only engine.
  const VisionTower* vision() const { return vision_.get(); }

 private:
  struct Live;  // per-request engine-thread record
  // Hybrid models: live recurrent-state slots (one per running sequence) and prefix snapshots.
  struct StatePlan {
    int64_t num_live = 0, num_snapshots = 0;
  };
  Engine(const Model& model, const EngineConfig& config, std::unique_ptr<Backend> backend,
         std::unique_ptr<ModelRunner> runner, std::unique_ptr<VisionTower> vision, KvLayout layout,
         int64_t num_blocks, StatePlan states);
  // The request's images against the vision tower (engine_images.cc); nullopt when valid.
  std::optional<RequestError> validate_images(const EngineRequest& req) const;
  // M-RoPE models: the token grid of each of the request's images (engine_images.cc).
  std::vector<ImageGrid> image_grids(const EngineRequest& req) const;
  // The step's image rows: their embeddings (from the encoder cache, or encoded now in batches)
  // spliced into b, and the attention ends of image tokens where they see the whole image.
  // `held` keeps the embeddings alive through the forward.
  void add_images(const SchedulerOutput& out, ForwardBatch& b,
                  std::vector<EncoderCache::Embeddings>& held);
  int64_t longest_sequence_that_fits() const;
  void loop();
  void admit_and_abort();
  void step(const SchedulerOutput& out);
  // One sequence's token of this step: forced or grammar-constrained ones are sampled while
  // planning (serially), the rest by sample_in_parallel.
  struct SampleJob {
    Live* request = nullptr;
    size_t index = 0;           // into request->seqs
    size_t row = 0;             // its row of the step's logits
    bool constrained = false;   // a grammar applies to this token
    bool forked_child = false;  // forked from its parent this step
    bool sampled = false;       // `out` is set
    SampleOutput out;
  };
  // Forks n > 1 requests after their prompt, and takes forced tokens (no sampling there).
  std::vector<SampleJob> plan_samples(const std::vector<const ScheduledSequence*>& sampled);
  // Samples the jobs not yet sampled: greedy picks alone when each is plain greedy (only token
  // ids leave the backend), else on the backend (Backend::sample_rows) where it can, else from
  // the logits on the host (grammar masks serially, the rest in parallel).
  void sample_jobs(std::vector<SampleJob>& jobs, int64_t vocab);
  bool all_plain_greedy(const std::vector<SampleJob>& jobs) const;
  void sample_on_backend(std::vector<SampleJob>& jobs, int64_t vocab);
  void sample_on_host(std::vector<SampleJob>& jobs, int64_t vocab);
  // The job's grammar mask [(vocab + 31) / 32] of the tokens it may emit now.
  void fill_mask(const SampleJob& job, int64_t vocab, std::vector<uint32_t>& mask) const;
  SequenceDelta apply_sample(const SampleJob& job);
  void finish_prompt_only(const std::vector<const ScheduledSequence*>& sampled);
  void finish_request(Live& r, std::vector<SequenceDelta>& deltas);
  void abort_request(Live& r);
  void publish_metrics();
  void send_outputs();  // publish_metrics, then flush_outbox
  void flush_outbox();

  const Model& model_;
  EngineConfig config_;
  int32_t max_model_len_;
  int64_t kv_capacity_tokens_ = 0;  // the longest sequence the KV cache holds
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ModelRunner> runner_;  // the model's weights placed on backend_
  std::unique_ptr<VisionTower> vision_;  // vision models only
  std::unique_ptr<EncoderCache> encoder_cache_;
  std::unique_ptr<KvStorage> kv_storage_;
  std::unique_ptr<kv::KvCacheManager> kv_;
  std::unique_ptr<kv::StatePool> state_pool_;  // hybrid models only
  std::unique_ptr<Scheduler> scheduler_;
  std::mt19937_64 seed_rng_;
  std::vector<int32_t> eog_ids_;  // tokens that end generation (unless ignore_eos)
  uint64_t next_seq_id_ = 1;
  std::unordered_map<std::string, std::unique_ptr<Live>> live_;  // engine thread only
  EngineMetrics totals_;                                         // engine thread only
  std::vector<std::pair<std::shared_ptr<RequestStream>, RequestOutput>> outbox_;

  mutable std::mutex mu_;  // guards inbox_, aborts_, ids_, stop_, metrics_
  std::condition_variable cv_;
  std::vector<std::pair<EngineRequest, std::shared_ptr<RequestStream>>> inbox_;
  std::vector<std::string> aborts_;
  std::unordered_map<std::string, bool> ids_;  // ids of live requests (duplicate check)
  bool stop_ = false;
  EngineMetrics metrics_;
  std::thread thread_;
};

}  // namespace sluice
