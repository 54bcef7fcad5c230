#include "api/media/image_memo.h"

namespace sluice::api {

std::optional<ImageMemo::Entry> ImageMemo::find(const media::ContentHash& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(bytes);
  if (it == map_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ImageMemo::insert(const media::ContentHash& bytes, const Entry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = map_.find(bytes); it != map_.end()) {
    it->second->second = entry;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(bytes, entry);
  map_[bytes] = lru_.begin();
  if (lru_.size() > capacity_) {
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace sluice::api
