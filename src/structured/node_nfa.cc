#include "structured/node_nfa.h"

namespace sluice::structured {

bool is_regular(const GrammarNode& node) {
  using K = GrammarNode::Kind;
  if (node.kind == K::kRef || node.kind == K::kScope) return false;
  for (const NodePtr& c : node.children)
    if (!is_regular(*c)) return false;
  return true;
}

void append_ranges(const ByteSet& set, int32_t target, std::vector<ByteRange>& out) {
  for (int b = 0; b < 256;) {
    if (!set.test(b)) {
      ++b;
      continue;
    }
    int e = b;
    while (e + 1 < 256 && set.test(e + 1)) ++e;
    out.push_back({static_cast<uint8_t>(b), static_cast<uint8_t>(e), target});
    b = e + 1;
  }
}

namespace {

// JSON escape of a decoded byte inside a string: 0 = emit raw, -1 = not representable here.
char escape_letter(int b) {
  switch (b) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\n':
      return 'n';
    case '\t':
      return 't';
    case '\r':
      return 'r';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    default:
      return b < 0x20 ? -1 : 0;
  }
}

// Adds a DFA; json_escape turns each decoded byte that JSON must escape into its escape.
void add_dfa(const ByteDfa& dfa, bool json_escape, ByteNfa& nfa, int32_t from, int32_t to) {
  const int32_t base = static_cast<int32_t>(nfa.states.size());
  for (size_t i = 0; i < dfa.states.size(); ++i) nfa.add_state();
  nfa.states[from].eps.push_back(base);
  for (size_t i = 0; i < dfa.states.size(); ++i) {
    const int32_t s = base + static_cast<int32_t>(i);
    if (dfa.states[i].accepting) nfa.states[s].eps.push_back(to);
    for (const ByteRange& e : dfa.states[i].edges) {
      const int32_t target = base + e.target;
      if (!json_escape) {
        nfa.states[s].edges.push_back({e.lo, e.hi, target});
        continue;
      }
      for (int b = e.lo; b <= e.hi;) {
        const char esc = escape_letter(b);
        if (esc == 0) {  // a run of raw bytes
          int end = b;
          while (end + 1 <= e.hi && escape_letter(end + 1) == 0) ++end;
          nfa.states[s].edges.push_back({uint8_t(b), uint8_t(end), target});
          b = end + 1;
          continue;
        }
        if (esc > 0) {
          const int32_t mid = nfa.add_state();
          nfa.states[s].edges.push_back({'\\', '\\', mid});
          nfa.states[mid].edges.push_back({uint8_t(esc), uint8_t(esc), target});
        }
        ++b;
      }
    }
  }
}

}  // namespace

void add_to_nfa(const GrammarNode& node, ByteNfa& nfa, int32_t from, int32_t to) {
  using K = GrammarNode::Kind;
  switch (node.kind) {
    case K::kBytes: {
      int32_t cur = from;
      for (size_t i = 0; i < node.classes.size(); ++i) {
        const int32_t next = i + 1 == node.classes.size() ? to : nfa.add_state();
        append_ranges(node.classes[i], next, nfa.states[cur].edges);
        cur = next;
      }
      if (node.classes.empty()) nfa.states[from].eps.push_back(to);
      return;
    }
    case K::kSequence: {
      int32_t cur = from;
      for (size_t i = 0; i < node.children.size(); ++i) {
        const int32_t next = i + 1 == node.children.size() ? to : nfa.add_state();
        add_to_nfa(*node.children[i], nfa, cur, next);
        cur = next;
      }
      if (node.children.empty()) nfa.states[from].eps.push_back(to);
      return;
    }
    case K::kChoice:
      for (const NodePtr& c : node.children) {
        const int32_t a = nfa.add_state(), b = nfa.add_state();
        nfa.states[from].eps.push_back(a);
        nfa.states[b].eps.push_back(to);
        add_to_nfa(*c, nfa, a, b);
      }
      return;
    case K::kRepeat: {
      const GrammarNode& item = *node.children[0];
      int32_t cur = from;
      for (int32_t i = 0; i < node.min; ++i) {
        const int32_t next = nfa.add_state();
        add_to_nfa(item, nfa, cur, next);
        cur = next;
      }
      if (node.max < 0) {
        const int32_t a = nfa.add_state(), b = nfa.add_state();
        nfa.states[cur].eps.push_back(a);
        nfa.states[cur].eps.push_back(to);
        nfa.states[b].eps.push_back(cur);
        add_to_nfa(item, nfa, a, b);
        return;
      }
      for (int32_t i = node.min; i < node.max; ++i) {
        nfa.states[cur].eps.push_back(to);
        const int32_t next = nfa.add_state();
        add_to_nfa(item, nfa, cur, next);
        cur = next;
      }
      nfa.states[cur].eps.push_back(to);
      return;
    }
    case K::kAutomaton:
      add_dfa(*node.dfa, node.json_escape, nfa, from, to);
      return;
    case K::kRef:
    case K::kScope:
      SLUICE_ASSERT(false, "add_to_nfa on a non-regular node");
  }
}

Result<ByteDfa> node_to_dfa(const GrammarNode& node, int32_t max_states) {
  ByteNfa nfa;
  nfa.start = nfa.add_state();
  nfa.accept = nfa.add_state();
  add_to_nfa(node, nfa, nfa.start, nfa.accept);
  return determinize(nfa, max_states);
}

}  // namespace sluice::structured
