#pragma once
// Stop strings over streamed text: text that could still be the start of a stop string is held
// back, so a stop string split across tokens is caught and none of it is ever emitted.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);
  // Appends newly decoded text; returns the text that is now safe to emit. After a match,
  // stopped() is true and the returned text ends just before the stop string.
  std::string push(std::string_view text);
  // At the end of generation (not stopped): the held-back text.
  std::string flush();
  bool stopped() const;
  const std::string& matched() const;  // the stop string found

 private:
  // One stop string with its KMP failure table; `state` is the length of the longest prefix of
  // `text` that is a suffix of everything pushed so far.
  struct Stop {
    std::string text;
    std::vector<size_t> fail;
    size_t state = 0;
  };
  std::vector<Stop> stops_;
  std::string pending_;  // pushed but not yet emitted
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace sluice
