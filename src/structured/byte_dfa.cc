#include "structured/byte_dfa.h"

#include <algorithm>
#include <deque>
#include <map>

namespace sluice::structured {

int32_t ByteDfa::step(int32_t state, uint8_t byte) const {
  for (const ByteRange& e : states[state].edges)
    if (byte >= e.lo && byte <= e.hi) return e.target;
  return -1;
}

bool ByteDfa::matches(const std::string& bytes) const {
  if (states.empty()) return false;
  int32_t s = 0;
  for (char c : bytes) {
    s = step(s, static_cast<uint8_t>(c));
    if (s < 0) return false;
  }
  return states[s].accepting;
}

int32_t ByteNfa::add_state() {
  states.emplace_back();
  return static_cast<int32_t>(states.size()) - 1;
}

namespace {

void close_over_eps(const ByteNfa& nfa, std::vector<int32_t>& set) {
  std::vector<char> seen(nfa.states.size(), 0);
  for (int32_t s : set) seen[s] = 1;
  for (size_t i = 0; i < set.size(); ++i)
    for (int32_t e : nfa.states[set[i]].eps)
      if (!seen[e]) seen[e] = 1, set.push_back(e);
  std::sort(set.begin(), set.end());
}

// Appends edges for runs of equal targets over bytes [0, 256).
void add_runs(const std::vector<int32_t>& target_of_byte, std::vector<ByteRange>& edges) {
  for (int b = 0; b < 256;) {
    int e = b;
    while (e + 1 < 256 && target_of_byte[e + 1] == target_of_byte[b]) ++e;
    if (target_of_byte[b] >= 0)
      edges.push_back({static_cast<uint8_t>(b), static_cast<uint8_t>(e), target_of_byte[b]});
    b = e + 1;
  }
}

}  // namespace

Result<ByteDfa> determinize(const ByteNfa& nfa, int32_t max_states) {
  ByteDfa dfa;
  std::map<std::vector<int32_t>, int32_t> ids;
  std::vector<std::vector<int32_t>> sets;
  std::vector<int32_t> start = {nfa.start};
  close_over_eps(nfa, start);
  ids[start] = 0;
  sets.push_back(start);
  dfa.states.emplace_back();
  for (size_t d = 0; d < sets.size(); ++d) {
    std::vector<std::vector<int32_t>> by_byte(256);
    bool accepting = false;
    for (int32_t s : sets[d]) {
      if (s == nfa.accept) accepting = true;
      for (const ByteRange& e : nfa.states[s].edges)
        for (int b = e.lo; b <= e.hi; ++b) by_byte[b].push_back(e.target);
    }
    dfa.states[d].accepting = accepting;
    std::vector<int32_t> target_of_byte(256, -1);
    for (int b = 0; b < 256;) {
      int e = b;
      while (e + 1 < 256 && by_byte[e + 1] == by_byte[b]) ++e;
      if (!by_byte[b].empty()) {
        std::vector<int32_t> set = by_byte[b];
        close_over_eps(nfa, set);
        set.erase(std::unique(set.begin(), set.end()), set.end());
        auto it = ids.find(set);
        int32_t id;
        if (it != ids.end()) {
          id = it->second;
        } else {
          if (static_cast<int32_t>(sets.size()) >= max_states)
            return Status::error(
                "regex", "automaton too large (over " + std::to_string(max_states) + " states)");
          id = static_cast<int32_t>(sets.size());
          ids.emplace(set, id);
          sets.push_back(std::move(set));
          dfa.states.emplace_back();
        }
        for (int x = b; x <= e; ++x) target_of_byte[x] = id;
      }
      b = e + 1;
    }
    add_runs(target_of_byte, dfa.states[d].edges);
  }
  return minimize(trim(dfa));
}

ByteDfa minimize(const ByteDfa& dfa) {
  // Moore's partition refinement: split states until equal classes have equal transitions.
  const size_t n = dfa.states.size();
  std::vector<int32_t> cls(n);
  for (size_t s = 0; s < n; ++s) cls[s] = dfa.states[s].accepting ? 1 : 0;
  size_t num_classes = 0;
  while (true) {
    std::map<std::vector<int32_t>, int32_t> ids;
    std::vector<int32_t> next(n);
    for (size_t s = 0; s < n; ++s) {
      int32_t target[256];
      std::fill(target, target + 256, -1);
      for (const ByteRange& e : dfa.states[s].edges)
        for (int b = e.lo; b <= e.hi; ++b) target[b] = cls[e.target];
      std::vector<int32_t> sig = {cls[s]};
      for (int b = 0; b < 256; ++b)
        if (b == 0 || target[b] != target[b - 1]) sig.insert(sig.end(), {b, target[b]});
      auto it = ids.emplace(std::move(sig), static_cast<int32_t>(ids.size())).first;
      next[s] = it->second;
    }
    cls.swap(next);
    if (ids.size() == num_classes) break;
    num_classes = ids.size();
  }
  // Rebuild with the start state's class first.
  std::vector<int32_t> remap(num_classes, -1);
  std::vector<size_t> rep;
  remap[cls[0]] = 0;
  rep.push_back(0);
  for (size_t s = 0; s < n; ++s)
    if (remap[cls[s]] < 0) {
      remap[cls[s]] = static_cast<int32_t>(rep.size());
      rep.push_back(s);
    }
  ByteDfa out;
  out.states.resize(rep.size());
  for (size_t c = 0; c < rep.size(); ++c) {
    const ByteDfa::State& s = dfa.states[rep[c]];
    out.states[c].accepting = s.accepting;
    for (const ByteRange& e : s.edges) {
      const int32_t t = remap[cls[e.target]];
      auto& edges = out.states[c].edges;
      if (!edges.empty() && edges.back().target == t && edges.back().hi + 1 == e.lo)
        edges.back().hi = e.hi;
      else
        edges.push_back({e.lo, e.hi, t});
    }
  }
  return out;
}

ByteDfa trim(const ByteDfa& dfa) {
  const size_t n = dfa.states.size();
  std::vector<std::vector<int32_t>> preds(n);
  for (size_t s = 0; s < n; ++s)
    for (const ByteRange& e : dfa.states[s].edges) preds[e.target].push_back(int32_t(s));
  std::vector<char> live(n, 0);
  std::vector<int32_t> work;
  for (size_t s = 0; s < n; ++s)
    if (dfa.states[s].accepting) live[s] = 1, work.push_back(int32_t(s));
  while (!work.empty()) {
    int32_t s = work.back();
    work.pop_back();
    for (int32_t p : preds[s])
      if (!live[p]) live[p] = 1, work.push_back(p);
  }
  ByteDfa out;
  if (n == 0 || !live[0]) {
    out.states.emplace_back();  // empty language
    return out;
  }
  // Keep reachable live states, start first.
  std::vector<int32_t> remap(n, -1);
  std::vector<int32_t> order = {0};
  remap[0] = 0;
  for (size_t i = 0; i < order.size(); ++i)
    for (const ByteRange& e : dfa.states[order[i]].edges)
      if (live[e.target] && remap[e.target] < 0) {
        remap[e.target] = int32_t(order.size());
        order.push_back(e.target);
      }
  out.states.resize(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const ByteDfa::State& s = dfa.states[order[i]];
    out.states[i].accepting = s.accepting;
    for (const ByteRange& e : s.edges)
      if (live[e.target]) out.states[i].edges.push_back({e.lo, e.hi, remap[e.target]});
  }
  return out;
}

Result<ByteDfa> limit_code_points(const ByteDfa& dfa, int32_t min_chars, int32_t max_chars,
                                  int32_t max_states) {
  // Product state: (dfa state, chars so far); unbounded max caps the count at min_chars.
  const int32_t cap = max_chars >= 0 ? max_chars : min_chars;
  std::map<std::pair<int32_t, int32_t>, int32_t> ids;
  std::vector<std::pair<int32_t, int32_t>> keys = {{0, 0}};
  ids[{0, 0}] = 0;
  ByteDfa out;
  out.states.emplace_back();
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [s, count] = keys[i];
    out.states[i].accepting = dfa.states[s].accepting && count >= min_chars;
    for (const ByteRange& e : dfa.states[s].edges) {
      // Split the range into continuation bytes (0x80-0xBF) and lead/ASCII bytes.
      const int lo = e.lo, hi = e.hi;
      const std::pair<int, int> parts[3] = {{lo, std::min(hi, 0x7F)},
                                            {std::max(lo, 0x80), std::min(hi, 0xBF)},
                                            {std::max(lo, 0xC0), hi}};
      for (int p = 0; p < 3; ++p) {
        if (parts[p].first > parts[p].second) continue;
        int32_t next = count;
        if (p != 1) {  // a new code point starts
          if (max_chars >= 0 && count >= max_chars) continue;
          next = std::min(count + 1, cap);
        }
        auto key = std::make_pair(e.target, next);
        auto it = ids.find(key);
        int32_t id;
        if (it != ids.end()) {
          id = it->second;
        } else {
          if (static_cast<int32_t>(keys.size()) >= max_states)
            return Status::error("json_schema",
                                 "string length limits make the automaton too large");
          id = static_cast<int32_t>(keys.size());
          ids.emplace(key, id);
          keys.push_back(key);
          out.states.emplace_back();
        }
        out.states[i].edges.push_back(
            {static_cast<uint8_t>(parts[p].first), static_cast<uint8_t>(parts[p].second), id});
      }
    }
  }
  return minimize(trim(out));
}

namespace {

Result<ByteDfa> product(const ByteDfa& a, const ByteDfa& b, bool diff, int32_t max_states) {
  // Product state (state of a, state of b or -1 once b has no transition).
  std::map<std::pair<int32_t, int32_t>, int32_t> ids;
  std::vector<std::pair<int32_t, int32_t>> keys = {{0, b.states.empty() ? -1 : 0}};
  ids[keys[0]] = 0;
  ByteDfa out;
  out.states.emplace_back();
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [sa, sb] = keys[i];
    const bool in_b = sb >= 0 && b.states[sb].accepting;
    out.states[i].accepting = a.states[sa].accepting && (diff ? !in_b : in_b);
    std::vector<int32_t> target(256, -1);
    for (const ByteRange& e : a.states[sa].edges)
      for (int x = e.lo; x <= e.hi; ++x) {
        const int32_t tb = sb >= 0 ? b.step(sb, uint8_t(x)) : -1;
        if (!diff && tb < 0) continue;
        auto key = std::make_pair(e.target, tb);
        auto it = ids.find(key);
        int32_t id;
        if (it != ids.end()) {
          id = it->second;
        } else {
          if (static_cast<int32_t>(keys.size()) >= max_states)
            return Status::error("json_schema", "combined string constraints are too large");
          id = static_cast<int32_t>(keys.size());
          ids.emplace(key, id);
          keys.push_back(key);
          out.states.emplace_back();
        }
        target[x] = id;
      }
    add_runs(target, out.states[i].edges);
  }
  return minimize(trim(out));
}

}  // namespace

Result<ByteDfa> intersect(const ByteDfa& a, const ByteDfa& b, int32_t max_states) {
  return product(a, b, false, max_states);
}

Result<ByteDfa> difference(const ByteDfa& a, const ByteDfa& b, int32_t max_states) {
  return product(a, b, true, max_states);
}

ByteDfa text_until_dfa(const std::string& t) {
  ByteDfa dfa;
  const int m = static_cast<int>(t.size());
  if (m == 0) {
    dfa.states.emplace_back();
    dfa.states[0].accepting = true;
    return dfa;
  }
  std::vector<int> fail(m + 1, 0);  // KMP failure function
  for (int i = 1, k = 0; i < m; ++i) {
    while (k > 0 && t[i] != t[k]) k = fail[k];
    if (t[i] == t[k]) ++k;
    fail[i + 1] = k;
  }
  dfa.states.resize(m + 1);
  dfa.states[m].accepting = true;
  for (int s = 0; s < m; ++s) {
    std::vector<int32_t> target(256);
    for (int b = 0; b < 256; ++b) {
      int k = s;
      while (k > 0 && static_cast<uint8_t>(t[k]) != b) k = fail[k];
      if (static_cast<uint8_t>(t[k]) == b) ++k;
      target[b] = k;
    }
    add_runs(target, dfa.states[s].edges);
  }
  return dfa;
}

}  // namespace sluice::structured
