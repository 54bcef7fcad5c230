#pragma once
// Follows one sequence through its reasoning section ("<think> ... </think>") token by token, by
// the tokens' raw text, and says when the section's token budget is spent.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/token_constraint.h"

namespace sluice {

class ReasoningTracker {
 public:
  explicit ReasoningTracker(const ReasoningControl& control);
  // Feeds the raw text of the next output token (special tokens included).
  void push(std::string_view token_text);
  bool inside() const { return inside_; }
  bool tracking() const { return !done_; }  // false once the section closed (or never could open)
  // Inside, with a budget, and that many tokens spent in the section.
  bool budget_spent() const;

 private:
  const ReasoningControl* control_;
  bool inside_ = false;
  bool done_ = false;  // the section closed; nothing more is tracked
  int32_t num_tokens_ = 0;
  std::string tail_;  // last bytes, to find a tag split across tokens
};

}  // namespace sluice
