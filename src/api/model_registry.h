#pragma once
// The models one server serves (--models-dir, --model NAME=PATH) and which of them are loaded.
// A request's model loads on first use, in a thread of its own (requests to other models go on);
// --max-loaded-models and --models-memory evict the least recently used idle model first;
// --idle-unload frees a model nobody used for that long. A loaded model is a ModelContext handed
// out as a lease (shared_ptr): unloading drops the registry's hold, the model goes once the
// requests holding it finish.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/model_context.h"
#include "common/status.h"

namespace sluice::api {

struct ModelSpec {
  std::string id;      // the name requests use
  std::string path;    // GGUF file or model directory
  std::string mmproj;  // a projector GGUF attached to it ("": none)
  int64_t bytes = 0;   // its files' size on disk (the memory budget's estimate of its weights)
};

enum class ModelState { kUnloaded, kLoading, kLoaded, kFailed };
const char* model_state_name(ModelState state);  // "unloaded", "loading", "loaded", "failed"

struct RegistryLimits {
  int max_loaded = 0;                // models loaded at once; 0: no limit
  int64_t memory_bytes = 0;          // estimated bytes of the loaded models; 0: no limit
  int64_t per_model_bytes = 0;       // added to each model's file size: its KV cache and caches
  double idle_unload_s = 0;          // unload a model nobody used this long; 0: never
  double load_timeout_s = 600;       // how long a request waits for its model to load
  double retry_failed_after_s = 10;  // a failed load is tried again by a request after this
  bool strict_ids = false;           // one model: requests naming another id get a 404 too
};

using ModelLease = std::shared_ptr<ModelContext>;
// Loads one model (weights, engine, template); slow. Its error names the file.
using ModelLoader = std::function<Result<ModelLease>(const ModelSpec& spec)>;

class ModelRegistry {
 public:
  ModelRegistry(std::vector<ModelSpec> specs, RegistryLimits limits, ModelLoader loader);
  ~ModelRegistry();  // waits for loads in progress, then unloads everything
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  const RegistryLimits& limits() const { return limits_; }
  // The id a request's "model" field names: "" is the first model; with one model (and no
  // strict ids) any name is it. Throws a 404 model_not_found naming the ids served.
  std::string resolve(const std::string& requested) const;
  // The model if loaded now (null otherwise; starts its load unless loading or failed lately).
  ModelLease try_acquire(const std::string& id);
  // The model, loading it first if needed and waiting up to `timeout_s`; throws a 503 when it
  // is still loading then, or its load failed (the loader's message).
  ModelLease acquire(const std::string& id, double timeout_s);
  // Waits up to `timeout_s` for `id` to leave kLoading; its state then (the error in *error).
  ModelState wait_loaded(const std::string& id, double timeout_s, std::string* error);
  // Drops the registry's hold on a loaded model; false when it was not loaded.
  bool unload(const std::string& id);

  struct Status {
    ModelSpec spec;
    ModelState state = ModelState::kUnloaded;
    std::string error;  // kFailed: why
    ModelLease loaded;  // kLoaded: the model
    std::shared_ptr<ModelMetrics> metrics;
  };
  std::vector<Status> list() const;  // in the order the models were given
  std::optional<Status> status(const std::string& id) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    ModelSpec spec;
    ModelState state = ModelState::kUnloaded;
    std::string error;
    Clock::time_point failed_at, last_used;
    ModelLease lease;
    std::shared_ptr<ModelMetrics> metrics = std::make_shared<ModelMetrics>();
    std::thread loader;  // the latest load (joined before the next one starts)
  };
  Entry& entry(const std::string& id);  // throws 404
  const Entry* find(const std::string& id) const;
  void start_load(Entry& e);  // with mu_ held
  void load(Entry& e);        // the load thread
  // With mu_ held: unloads idle models (least recently used first) until `e` fits the limits;
  // waits for one to go idle up to the load timeout. False: no room.
  bool make_room(Entry& e, std::unique_lock<std::mutex>& lock);
  int64_t estimate(const Entry& e) const { return e.spec.bytes + limits_.per_model_bytes; }
  // Drops a lease outside the lock (destroying a model joins its engine thread).
  void release(ModelLease lease, std::unique_lock<std::mutex>& lock);
  void reap();  // the idle-unload thread

  RegistryLimits limits_;
  ModelLoader loader_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Entry>> entries_;  // fixed at construction
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace sluice::api
