#pragma once
// PCRE2 (UTF + UCP, JIT when available) wrapper for pre-tokenizer split patterns.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

class Regex {
 public:
  // dollar_end_only: "$" matches only at the very end (std::regex semantics used by llama.cpp).
  static Result<std::shared_ptr<const Regex>> compile(const std::string& pattern,
                                                      bool dollar_end_only = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls on_match(begin, end) for every non-overlapping match in subject, left to right
  // (empty matches advance by one character). Thread-safe.
  void for_each_match(std::string_view subject,
                      const std::function<void(size_t, size_t)>& on_match) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
  std::string pattern_;
};

}  // namespace sluice
