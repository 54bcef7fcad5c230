#pragma once
// Data URLs seen lately, kept whole under a byte budget: a picture an agent resends every turn is
// found by a fast hash of its text and an exact comparison with the text kept, so a repeat costs
// neither SHA-256 (~0.5 ms for a 640 px PNG's 668 KB) nor a copy of the text. Only an exact
// match hits: nothing crafted can collide. Thread-safe; LRU.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/media/media_memo.h"

namespace sluice::api {

class RecentDataUrls {
 public:
  struct Hit {
    std::shared_ptr<const std::string> url;  // the kept text, equal to the URL looked up
    SeenPicture seen;
  };

  explicit RecentDataUrls(size_t budget_bytes) : budget_(budget_bytes) {}

  std::optional<Hit> find(std::string_view url);
  // Keeps url (unless it alone is over a quarter of the budget), dropping the least recently
  // used entries past the budget; returns the kept text (null when not kept).
  std::shared_ptr<const std::string> insert(std::string_view url, const SeenPicture& seen);
  size_t bytes() const;

 private:
  struct Entry {
    uint64_t key;
    Hit hit;
  };
  // The entry of url (its key's), made the most recent; null when none. mu_ held.
  Entry* touch(uint64_t key, std::string_view url);

  size_t budget_, bytes_ = 0;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front: most recent
  std::unordered_multimap<uint64_t, std::list<Entry>::iterator> map_;
};

}  // namespace sluice::api
