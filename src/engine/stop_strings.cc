#include "engine/stop_strings.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"

// Each stop string runs a KMP automaton over every pushed byte, so a push costs
// O(bytes * num_stops) whatever the split. The first byte that completes any stop string ends
// the stream (the longest one, i.e. the earliest start, among those completing on that byte):
// this is what byte-by-byte streaming sees, so the result never depends on how text is split.
//
//   emitted | held back (longest suffix that is a prefix of a stop) | next push ...

namespace sluice {
namespace {

std::vector<size_t> kmp_failure(const std::string& s) {
  std::vector<size_t> fail(s.size(), 0);
  size_t k = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    while (k > 0 && s[i] != s[k]) k = fail[k - 1];
    if (s[i] == s[k]) ++k;
    fail[i] = k;
  }
  return fail;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Moves a cut back to the start of the UTF-8 character it falls in.
size_t char_boundary(const std::string& s, size_t cut) {
  while (cut > 0 && cut < s.size() && is_continuation(s[cut])) --cut;
  return cut;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (s.empty()) continue;  // validate() rejects these; an empty stop would match at once
    Stop stop;
    stop.fail = kmp_failure(s);
    stop.text = std::move(s);
    stops_.push_back(std::move(stop));
  }
}

std::string StopStringMatcher::push(std::string_view text) {
  if (stopped_) return {};
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const Stop* hit = nullptr;
    for (Stop& stop : stops_) {
      size_t q = stop.state;
      while (q > 0 && stop.text[q] != c) q = stop.fail[q - 1];
      if (stop.text[q] == c) ++q;
      stop.state = q;
      if (q == stop.text.size() && (hit == nullptr || q > hit->text.size())) hit = &stop;
    }
    if (hit != nullptr) {
      pending_.append(text.substr(0, i + 1));
      SLUICE_ASSERT(hit->text.size() <= pending_.size(), "stop match starts in emitted text");
      const size_t start = char_boundary(pending_, pending_.size() - hit->text.size());
      std::string out = pending_.substr(0, start);
      matched_ = hit->text;
      stopped_ = true;
      pending_.clear();
      return out;
    }
  }
  pending_.append(text);
  size_t hold = 0;
  for (const Stop& stop : stops_) hold = std::max(hold, stop.state);
  const size_t cut = char_boundary(pending_, pending_.size() - std::min(hold, pending_.size()));
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string StopStringMatcher::flush() {
  if (stopped_) return {};
  for (Stop& stop : stops_) stop.state = 0;  // a later push starts afresh
  return std::exchange(pending_, std::string());
}

bool StopStringMatcher::stopped() const {
  return stopped_;
}

const std::string& StopStringMatcher::matched() const {
  return matched_;
}

}  // namespace sluice
