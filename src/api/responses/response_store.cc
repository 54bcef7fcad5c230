#include "api/responses/response_store.h"

namespace sluice::api {

void ResponseStore::erase_locked(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->id);
  lru_.erase(it);
}

bool ResponseStore::put(const std::string& id, StoredResponse entry,
                        const ResponseStoreLimits& limits) {
  const size_t bytes = dump(entry.response).size() + dump(entry.conversation).size() + id.size();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(id); it != index_.end()) erase_locked(it->second);
  if (bytes > limits.max_bytes || limits.max_entries == 0) return false;
  lru_.push_front(Entry{id, std::move(entry), bytes});
  index_[id] = lru_.begin();
  bytes_ += bytes;
  while (lru_.size() > limits.max_entries || bytes_ > limits.max_bytes)
    erase_locked(std::prev(lru_.end()));
  return true;
}

std::optional<StoredResponse> ResponseStore::get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

bool ResponseStore::erase(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  erase_locked(it->second);
  return true;
}

size_t ResponseStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

size_t ResponseStore::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace sluice::api
