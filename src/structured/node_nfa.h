#pragma once
// Regular parts of a node tree (no rule references) as byte automata.
#include "structured/byte_dfa.h"
#include "structured/grammar_node.h"

namespace sluice::structured {

// True when `node` contains no rule reference or scope (a regular language).
bool is_regular(const GrammarNode& node);
// Adds `node` to `nfa` between states `from` and `to`. Requires is_regular(node).
void add_to_nfa(const GrammarNode& node, ByteNfa& nfa, int32_t from, int32_t to);
// Regular node -> DFA (fails when the DFA would exceed max_states).
Result<ByteDfa> node_to_dfa(const GrammarNode& node, int32_t max_states = 20000);
// Appends the ranges of a byte set.
void append_ranges(const ByteSet& set, int32_t target, std::vector<ByteRange>& out);

}  // namespace sluice::structured
