#include "api/media/recent_data_urls.h"

#include <xxhash.h>

namespace sluice::api {

namespace {
uint64_t key_of(std::string_view url) {
  return XXH3_64bits(url.data(), url.size());
}
}  // namespace

RecentDataUrls::Entry* RecentDataUrls::touch(uint64_t key, std::string_view url) {
  auto [first, last] = map_.equal_range(key);
  for (auto it = first; it != last; ++it) {
    if (*it->second->hit.url != url) continue;
    lru_.splice(lru_.begin(), lru_, it->second);
    return &*it->second;
  }
  return nullptr;
}

std::optional<RecentDataUrls::Hit> RecentDataUrls::find(std::string_view url) {
  const uint64_t key = key_of(url);
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = touch(key, url)) return e->hit;
  return std::nullopt;
}

std::shared_ptr<const std::string> RecentDataUrls::insert(std::string_view url,
                                                          const SeenPicture& seen) {
  if (url.size() > budget_ / 4) return nullptr;
  const uint64_t key = key_of(url);
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = touch(key, url)) {
    e->hit.seen = seen;
    return e->hit.url;
  }
  auto text = std::make_shared<const std::string>(url);
  lru_.push_front({key, {text, seen}});
  map_.emplace(key, lru_.begin());
  bytes_ += url.size();
  while (bytes_ > budget_) {
    const Entry& old = lru_.back();
    auto [f, l] = map_.equal_range(old.key);
    for (auto it = f; it != l; ++it)
      if (it->second == std::prev(lru_.end())) {
        map_.erase(it);
        break;
      }
    bytes_ -= old.hit.url->size();
    lru_.pop_back();
  }
  return text;
}

size_t RecentDataUrls::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace sluice::api
