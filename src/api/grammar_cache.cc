#include "api/grammar_cache.h"

namespace sluice::api {

std::shared_ptr<const structured::TokenVocab> GrammarCache::vocab(const Tokenizer& tok) {
  std::call_once(vocab_once_, [&] { vocab_ = structured::TokenVocab::build(tok); });
  return vocab_;
}

Result<std::shared_ptr<const structured::Grammar>> GrammarCache::get(
    const std::string& key, const std::function<Result<structured::NodePtr>()>& root) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Compiled outside the lock: two workers may both compile a new key; the first one stays.
  auto node = root();
  if (!node) return node.status();
  auto grammar = structured::compile(*node);
  if (!grammar) return grammar.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second->second;
  lru_.emplace_front(key, *grammar);
  index_[key] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return *grammar;
}

}  // namespace sluice::api
