#pragma once
// Compiled grammars shared by every request that asks for the same one, and the tokenizer's
// vocabulary view (built on first use). Thread-safe: HTTP workers call it concurrently.
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "structured/grammar.h"
#include "structured/grammar_matcher.h"

namespace sluice {
class Tokenizer;
}

namespace sluice::api {

class GrammarCache {
 public:
  explicit GrammarCache(size_t capacity = 256) : capacity_(capacity) {}
  std::shared_ptr<const structured::TokenVocab> vocab(const Tokenizer& tok);
  // The grammar for `key`; built (root()) and compiled on a miss. Errors are not cached.
  Result<std::shared_ptr<const structured::Grammar>> get(
      const std::string& key, const std::function<Result<structured::NodePtr>()>& root);

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const structured::Grammar>>;
  std::mutex mu_;
  std::once_flag vocab_once_;
  std::shared_ptr<const structured::TokenVocab> vocab_;
  size_t capacity_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace sluice::api
