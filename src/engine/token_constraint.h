#pragma once
// The engine's view of constrained decoding: something that says which tokens may come next and
// advances on the sampled one. The API layer implements it with a grammar matcher (structured/);
// the engine never sees schemas or JSON.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sluice {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // bitmask: [(vocab + 31) / 32] words; bit t set <=> token t may come next. tokens_left: how
  // many more tokens the sequence may emit, this one included (max_tokens and context room), so
  // the constraint can steer to a complete output in time.
  virtual void fill_mask(std::span<uint32_t> bitmask, int32_t tokens_left) = 0;
  virtual bool accept(int32_t token) = 0;  // false: token not allowed (state unchanged)
  virtual bool must_finish() const = 0;    // complete, nothing may follow but end of generation
};

// Makes one constraint per sequence (n > 1 forks get their own).
using TokenConstraintFactory = std::function<std::unique_ptr<TokenConstraint>()>;

// Reasoning ("<think> ... </think>") control: the engine tracks whether a sequence is inside the
// reasoning section, ends it by forcing `close_tokens` once `budget` tokens are spent, and only
// applies the constraint after it.
struct ReasoningControl {
  bool enabled = false;
  bool starts_inside = false;         // the prompt opened the section
  std::string open_text, close_text;  // e.g. "<think>", "</think>"
  std::vector<int32_t> close_tokens;  // what is forced when the budget is spent
  int32_t budget = -1;                // max tokens inside the section; < 0: unlimited
};

}  // namespace sluice
