#pragma once
// The node tree behind NodePtr (structured layer internal): what the builders produce and the
// grammar compiler consumes.
#include <bitset>
#include <memory>
#include <string>
#include <vector>

#include "structured/byte_dfa.h"
#include "structured/grammar.h"

namespace sluice::structured {

using ByteSet = std::bitset<256>;

// Named rules that may refer to each other (recursive $ref, JSON values); owned by a kScope node.
struct RuleSet {
  std::vector<NodePtr> bodies;
  std::vector<std::string> names;
};

struct GrammarNode {
  enum class Kind {
    kBytes,      // a sequence of byte classes (a literal is one single-byte class per byte)
    kSequence,   // children in order
    kChoice,     // one of children (no children: matches nothing)
    kRepeat,     // children[0] repeated [min, max] times (max < 0: unbounded)
    kRef,        // rule `rule_index` of `rules` (owned by an enclosing kScope)
    kScope,      // owns `owned_rules`; children[0] is the body
    kAutomaton,  // a byte DFA; json_escape: it describes decoded string content, emit escaped
  };
  Kind kind = Kind::kBytes;
  std::vector<ByteSet> classes;
  std::vector<NodePtr> children;
  int32_t min = 0;
  int32_t max = 0;
  const RuleSet* rules = nullptr;
  int32_t rule_index = -1;
  std::shared_ptr<RuleSet> owned_rules;
  std::shared_ptr<const ByteDfa> dfa;
  bool json_escape = false;
};

// Internal builders.
NodePtr byte_class(const ByteSet& set);
NodePtr byte_range(uint8_t lo, uint8_t hi);
NodePtr byte_classes(std::vector<ByteSet> classes);
NodePtr optional(NodePtr item);
NodePtr nothing();  // matches no input at all
NodePtr automaton(ByteDfa dfa, bool json_escape);
NodePtr rule_ref(const RuleSet* rules, int32_t index);
NodePtr scope(std::shared_ptr<RuleSet> rules, NodePtr body);
NodePtr json_string();          // any JSON string, quotes included
NodePtr json_number();          // any JSON number
NodePtr any_json_value();       // any JSON value (recursive)
NodePtr colon_whitespace();     // after ":" — nothing or one space
NodePtr utf8_multibyte_char();  // one valid UTF-8 character of 2-4 bytes

}  // namespace sluice::structured
