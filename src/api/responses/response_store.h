#pragma once
// Stored responses of the Responses API (store: true): the response object and the conversation
// it ends (input items, previous turns included, then its output items), for GET / DELETE and
// previous_response_id. In memory, bounded by count and bytes; the least recently used go first.
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/json_fields.h"

namespace sluice::api {

struct StoredResponse {
  Json response;      // the response object as returned
  Json conversation;  // [item]: what a response naming this one as previous_response_id continues
};

struct ResponseStoreLimits {
  size_t max_entries = 1000;
  size_t max_bytes = 64u << 20;  // serialized sizes of response + conversation
};

class ResponseStore {
 public:
  // Stores (or replaces) `id`, then evicts the least recently used past the limits. An entry
  // larger than max_bytes alone is not kept; returns whether it was.
  bool put(const std::string& id, StoredResponse entry, const ResponseStoreLimits& limits);
  // A copy of the entry (it becomes the most recently used), or nullopt.
  std::optional<StoredResponse> get(const std::string& id);
  bool erase(const std::string& id);
  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string id;
    StoredResponse value;
    size_t bytes = 0;
  };
  void erase_locked(std::list<Entry>::iterator it);

  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace sluice::api
