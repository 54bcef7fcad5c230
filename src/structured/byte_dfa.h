#pragma once
// A small deterministic automaton over bytes, used for regex patterns, string formats, length
// limits and text_until; the grammar compiler turns it into graph nodes.
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::structured {

struct ByteRange {
  uint8_t lo = 0;
  uint8_t hi = 0;
  int32_t target = 0;
};

struct ByteDfa {
  struct State {
    std::vector<ByteRange> edges;  // sorted, disjoint
    bool accepting = false;
  };
  std::vector<State> states;                        // state 0 is the start
  int32_t step(int32_t state, uint8_t byte) const;  // -1: no transition
  bool matches(const std::string& bytes) const;
};

// Nondeterministic automaton with epsilon moves (built by the regex compiler).
struct ByteNfa {
  struct State {
    std::vector<ByteRange> edges;
    std::vector<int32_t> eps;
  };
  std::vector<State> states;
  int32_t start = 0;
  int32_t accept = 0;
  int32_t add_state();
};

// Subset construction; fails when more than max_states DFA states are needed.
Result<ByteDfa> determinize(const ByteNfa& nfa, int32_t max_states = 20000);
// Strings accepted by `dfa` of length [min_chars, max_chars] counted in UTF-8 code points
// (max_chars < 0: unbounded). Dead states are removed.
Result<ByteDfa> limit_code_points(const ByteDfa& dfa, int32_t min_chars, int32_t max_chars,
                                  int32_t max_states = 200000);
// Merges equivalent states (Moore); the result accepts the same strings.
ByteDfa minimize(const ByteDfa& dfa);
// Removes states that cannot reach an accepting state. Returns an empty DFA if none can.
ByteDfa trim(const ByteDfa& dfa);
// Strings in a and in b (intersection), or in a and not in b (difference).
Result<ByteDfa> intersect(const ByteDfa& a, const ByteDfa& b, int32_t max_states = 200000);
Result<ByteDfa> difference(const ByteDfa& a, const ByteDfa& b, int32_t max_states = 200000);
// Any bytes not containing `terminator`, then the terminator (KMP automaton).
ByteDfa text_until_dfa(const std::string& terminator);

}  // namespace sluice::structured
