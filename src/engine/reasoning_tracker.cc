#include "engine/reasoning_tracker.h"

#include <algorithm>

namespace sluice {

ReasoningTracker::ReasoningTracker(const ReasoningControl& control)
    : control_(&control), inside_(control.enabled && control.starts_inside) {
  done_ = !control.enabled;
}

void ReasoningTracker::push(std::string_view token_text) {
  if (done_) return;
  tail_.append(token_text);
  if (!inside_) {
    // The model may open the section itself, but only at the start of its output.
    const std::string& open = control_->open_text;
    const size_t first = tail_.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return;  // whitespace so far
    const std::string_view rest = std::string_view(tail_).substr(first);
    const size_t n = std::min(rest.size(), open.size());
    if (open.empty() || rest.compare(0, n, std::string_view(open).substr(0, n)) != 0) {
      done_ = true;  // other text came first: no reasoning section in this output
      return;
    }
    if (rest.size() < open.size()) return;  // a prefix of the tag so far
    inside_ = true;
    num_tokens_ = 0;
    tail_ = std::string(rest.substr(open.size()));
    if (tail_.empty()) return;
  } else {
    ++num_tokens_;
  }
  const std::string& close = control_->close_text;
  if (tail_.find(close) != std::string::npos) {
    inside_ = false;
    done_ = true;
    tail_.clear();
    return;
  }
  if (tail_.size() > close.size()) tail_.erase(0, tail_.size() - close.size());
}

bool ReasoningTracker::budget_spent() const {
  return inside_ && control_->budget >= 0 && num_tokens_ >= control_->budget;
}

}  // namespace sluice
