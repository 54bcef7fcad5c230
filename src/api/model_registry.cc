#include "api/model_registry.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdio>

namespace sluice::api {

namespace {

std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

}  // namespace

const char* model_state_name(ModelState state) {
  switch (state) {
    case ModelState::kUnloaded:
      return "unloaded";
    case ModelState::kLoading:
      return "loading";
    case ModelState::kLoaded:
      return "loaded";
    case ModelState::kFailed:
      return "failed";
  }
  return "unloaded";
}

ModelRegistry::ModelRegistry(std::vector<ModelSpec> specs, RegistryLimits limits,
                             ModelLoader loader)
    : limits_(limits), loader_(std::move(loader)) {
  for (ModelSpec& s : specs) {
    auto e = std::make_unique<Entry>();
    e->spec = std::move(s);
    entries_.push_back(std::move(e));
  }
  if (limits_.idle_unload_s > 0 || limits_.max_loaded > 0 || limits_.memory_bytes > 0)
    reaper_ = std::thread([this] { reap(); });
}

ModelRegistry::~ModelRegistry() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  for (auto& e : entries_)
    if (e->loader.joinable()) e->loader.join();
  for (auto& e : entries_) e->lease.reset();  // engines stop before the models go
}

const ModelRegistry::Entry* ModelRegistry::find(const std::string& id) const {
  for (const auto& e : entries_)
    if (e->spec.id == id) return e.get();
  return nullptr;
}

ModelRegistry::Entry& ModelRegistry::entry(const std::string& id) {
  if (const Entry* e = find(id)) return const_cast<Entry&>(*e);
  throw ApiError(ErrorKind::kModelNotFound, "the model '" + id + "' does not exist", "model");
}

std::string ModelRegistry::resolve(const std::string& requested) const {
  if (entries_.empty()) throw ApiError(ErrorKind::kUnavailable, "this server has no models");
  if (requested.empty()) return entries_.front()->spec.id;
  if (find(requested)) return requested;
  if (entries_.size() == 1 && !limits_.strict_ids) return entries_.front()->spec.id;
  std::string served;
  for (const auto& e : entries_) served += (served.empty() ? "'" : ", '") + e->spec.id + "'";
  throw ApiError(ErrorKind::kModelNotFound,
                 "the model '" + requested + "' does not exist; this server serves " + served,
                 "model");
}

void ModelRegistry::start_load(Entry& e) {
  if (stopping_) throw ApiError(ErrorKind::kUnavailable, "the server is shutting down");
  // A previous load has left its last critical section (it set the state we saw): joins at once.
  if (e.loader.joinable()) e.loader.join();
  e.state = ModelState::kLoading;
  e.error.clear();
  e.loader = std::thread([this, &e] { load(e); });
}

void ModelRegistry::load(Entry& e) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!make_room(e, lock)) {
    e.state = ModelState::kFailed;
    e.failed_at = Clock::now();
    changed_.notify_all();
    return;
  }
  lock.unlock();
  std::fprintf(stderr, "sluice: loading model '%s' (%s)\n", e.spec.id.c_str(), e.spec.path.c_str());
  Result<ModelLease> loaded = loader_(e.spec);
  lock.lock();
  if (loaded) {
    e.lease = std::move(*loaded);
    e.lease->metrics = e.metrics;
    e.state = ModelState::kLoaded;
    e.last_used = Clock::now();
  } else {
    e.state = ModelState::kFailed;
    e.error = loaded.error();
    e.failed_at = Clock::now();
    std::fprintf(stderr, "sluice: model '%s' failed to load: %s\n", e.spec.id.c_str(),
                 e.error.c_str());
  }
  changed_.notify_all();
}

bool ModelRegistry::make_room(Entry& e, std::unique_lock<std::mutex>& lock) {
  const auto deadline = Clock::now() + seconds(limits_.load_timeout_s);
  for (;;) {
    int loaded = 0;
    int64_t bytes = estimate(e);
    Entry* idlest = nullptr;
    for (auto& o : entries_) {
      if (o.get() == &e || (o->state != ModelState::kLoaded && o->state != ModelState::kLoading))
        continue;
      ++loaded;
      bytes += estimate(*o);
      const bool idle = o->state == ModelState::kLoaded && o->lease.use_count() == 1;
      if (idle && (!idlest || o->last_used < idlest->last_used)) idlest = o.get();
    }
    const bool over_count = limits_.max_loaded > 0 && loaded + 1 > limits_.max_loaded;
    const bool over_memory = limits_.memory_bytes > 0 && bytes > limits_.memory_bytes && loaded > 0;
    if (!over_count && !over_memory) return true;
    if (idlest) {
      std::fprintf(stderr, "sluice: unloading model '%s' to make room for '%s'\n",
                   idlest->spec.id.c_str(), e.spec.id.c_str());
      idlest->state = ModelState::kUnloaded;
      release(std::move(idlest->lease), lock);
      continue;
    }
    if (stopping_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      e.error = "no room to load the model '" + e.spec.id + "': " + std::to_string(loaded) +
                " models are loaded and busy (--max-loaded-models, --models-memory)";
      return false;
    }
  }
}

void ModelRegistry::release(ModelLease lease, std::unique_lock<std::mutex>& lock) {
  const bool last = lease.use_count() == 1;
  lock.unlock();
  lease.reset();  // the last holder destroys the model (its engine thread stops first)
#ifdef __GLIBC__
  if (last) malloc_trim(0);  // give the freed weights and KV back to the system
#endif
  lock.lock();
  changed_.notify_all();
}

ModelLease ModelRegistry::try_acquire(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entry(id);
  if (e.state == ModelState::kLoaded) {
    e.last_used = Clock::now();
    return e.lease;
  }
  const bool retry = e.state == ModelState::kFailed &&
                     Clock::now() - e.failed_at >= seconds(limits_.retry_failed_after_s);
  if (e.state == ModelState::kUnloaded || retry) start_load(e);
  return nullptr;
}

ModelLease ModelRegistry::acquire(const std::string& id, double timeout_s) {
  if (ModelLease lease = try_acquire(id)) return lease;
  std::string error;
  const ModelState state = wait_loaded(id, timeout_s, &error);
  if (state == ModelState::kLoaded)
    if (ModelLease lease = try_acquire(id)) return lease;
  if (state == ModelState::kFailed)
    throw ApiError(ErrorKind::kUnavailable, "the model '" + id + "' failed to load: " + error);
  if (state == ModelState::kLoading)
    throw ApiError(ErrorKind::kUnavailable, "the model '" + id + "' is still loading (waited " +
                                                std::to_string(static_cast<int>(timeout_s)) +
                                                " s, --load-timeout)");
  throw ApiError(ErrorKind::kUnavailable, "the model '" + id + "' was unloaded; retry");
}

ModelState ModelRegistry::wait_loaded(const std::string& id, double timeout_s, std::string* error) {
  std::unique_lock<std::mutex> lock(mu_);
  Entry& e = entry(id);
  changed_.wait_for(lock, seconds(timeout_s),
                    [&] { return e.state != ModelState::kLoading || stopping_; });
  if (error) *error = e.error;
  return e.state;
}

bool ModelRegistry::unload(const std::string& id) {
  std::unique_lock<std::mutex> lock(mu_);
  Entry& e = entry(id);
  if (e.state != ModelState::kLoaded) return false;
  e.state = ModelState::kUnloaded;
  std::fprintf(stderr, "sluice: unloading model '%s'\n", id.c_str());
  release(std::move(e.lease), lock);
  return true;
}

void ModelRegistry::reap() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    changed_.wait_for(lock, std::chrono::milliseconds(250));
    const auto now = Clock::now();
    for (auto& e : entries_) {
      if (e->state != ModelState::kLoaded) continue;
      if (e->lease.use_count() > 1) {  // in use: not idle
        e->last_used = now;
        continue;
      }
      if (limits_.idle_unload_s > 0 && now - e->last_used >= seconds(limits_.idle_unload_s)) {
        std::fprintf(stderr, "sluice: unloading model '%s' (idle %.0f s)\n", e->spec.id.c_str(),
                     limits_.idle_unload_s);
        e->state = ModelState::kUnloaded;
        release(std::move(e->lease), lock);
        break;  // entries may have changed while unlocked: look again next round
      }
    }
  }
}

std::vector<ModelRegistry::Status> ModelRegistry::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Status> out;
  for (const auto& e : entries_) out.push_back({e->spec, e->state, e->error, e->lease, e->metrics});
  return out;
}

std::optional<ModelRegistry::Status> ModelRegistry::status(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = find(id);
  if (!e) return std::nullopt;
  return Status{e->spec, e->state, e->error, e->lease, e->metrics};
}

}  // namespace sluice::api
