// Node tree -> Grammar. Regular subtrees become determinized automata ("islands"); rule
// references become call edges. Then every node's expansion is precomputed.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "structured/compiled_grammar.h"
#include "structured/finish_costs.h"
#include "structured/mask_cache.h"
#include "structured/node_nfa.h"

namespace sluice::structured {

namespace {
constexpr int32_t kMaxIslandStates = 4096;  // larger regular parts stay nondeterministic
constexpr int32_t kMaxExpansionEntries = 4096;
}  // namespace

class GrammarBuilder {
 public:
  Result<std::shared_ptr<const Grammar>> build(const NodePtr& root) {
    const int32_t start = add_node(), end = add_node();
    rules_.push_back({start, end});
    SLUICE_RETURN_IF_ERROR(emit(*root, start, end));
    while (!pending_.empty()) {  // rule bodies reached through references
      auto [rule, body] = pending_.back();
      pending_.pop_back();
      SLUICE_RETURN_IF_ERROR(emit(*body, rules_[rule].start, rules_[rule].end));
    }
    return finish();
  }

 private:
  struct Node {
    std::vector<ByteRange> bytes;
    std::vector<int32_t> eps;
    std::vector<std::pair<int32_t, int32_t>> calls;  // (rule, return node)
    int32_t rule_end_of = -1;
  };
  struct Rule {
    int32_t start, end;
  };
  struct Exp {
    std::vector<std::pair<int32_t, std::vector<int32_t>>> entries;
    bool end = false;
    int state = 0;  // 0 new, 1 in progress, 2 done
  };

  int32_t add_node() {
    nodes_.emplace_back();
    return static_cast<int32_t>(nodes_.size()) - 1;
  }

  int32_t rule_for(const RuleSet* set, int32_t index) {
    auto key = std::make_pair(set, index);
    auto it = rule_ids_.find(key);
    if (it != rule_ids_.end()) return it->second;
    const int32_t id = static_cast<int32_t>(rules_.size());
    const int32_t start = add_node(), end = add_node();
    rules_.push_back({start, end});
    rule_ids_.emplace(key, id);
    pending_.push_back({id, set->bodies[index]});
    return id;
  }

  // Adds a DFA between from and to.
  void add_island(const ByteDfa& dfa, int32_t from, int32_t to) {
    const int32_t base = static_cast<int32_t>(nodes_.size());
    for (size_t i = 0; i < dfa.states.size(); ++i) add_node();
    nodes_[from].eps.push_back(base);
    for (size_t i = 0; i < dfa.states.size(); ++i) {
      Node& n = nodes_[base + i];
      if (dfa.states[i].accepting) n.eps.push_back(to);
      for (const ByteRange& e : dfa.states[i].edges)
        n.bytes.push_back({e.lo, e.hi, base + e.target});
    }
  }

  Status emit(const GrammarNode& node, int32_t from, int32_t to) {
    using K = GrammarNode::Kind;
    if (node.kind != K::kBytes && is_regular(node)) {
      auto dfa = node_to_dfa(node, kMaxIslandStates);
      if (dfa.ok()) {
        add_island(*dfa, from, to);
        return Status::ok();
      }
    }
    switch (node.kind) {
      case K::kBytes:
      case K::kAutomaton: {
        ByteNfa nfa;
        nfa.start = nfa.add_state();
        nfa.accept = nfa.add_state();
        add_to_nfa(node, nfa, nfa.start, nfa.accept);
        const int32_t base = static_cast<int32_t>(nodes_.size());
        for (size_t i = 0; i < nfa.states.size(); ++i) add_node();
        nodes_[from].eps.push_back(base + nfa.start);
        nodes_[base + nfa.accept].eps.push_back(to);
        for (size_t i = 0; i < nfa.states.size(); ++i) {
          for (const ByteRange& e : nfa.states[i].edges)
            nodes_[base + i].bytes.push_back({e.lo, e.hi, base + e.target});
          for (int32_t e : nfa.states[i].eps) nodes_[base + i].eps.push_back(base + e);
        }
        return Status::ok();
      }
      case K::kSequence: {
        int32_t cur = from;
        for (size_t i = 0; i < node.children.size(); ++i) {
          const int32_t next = i + 1 == node.children.size() ? to : add_node();
          SLUICE_RETURN_IF_ERROR(emit(*node.children[i], cur, next));
          cur = next;
        }
        if (node.children.empty()) nodes_[from].eps.push_back(to);
        return Status::ok();
      }
      case K::kChoice:
        for (const NodePtr& c : node.children) {
          const int32_t a = add_node(), b = add_node();
          nodes_[from].eps.push_back(a);
          nodes_[b].eps.push_back(to);
          SLUICE_RETURN_IF_ERROR(emit(*c, a, b));
        }
        return Status::ok();
      case K::kRepeat: {
        const GrammarNode& item = *node.children[0];
        int32_t cur = from;
        for (int32_t i = 0; i < node.min; ++i) {
          const int32_t next = add_node();
          SLUICE_RETURN_IF_ERROR(emit(item, cur, next));
          cur = next;
        }
        if (node.max < 0) {
          const int32_t loop = add_node(), a = add_node(), b = add_node();
          nodes_[cur].eps.push_back(loop);
          nodes_[loop].eps.push_back(a);
          nodes_[loop].eps.push_back(to);
          nodes_[b].eps.push_back(loop);
          return emit(item, a, b);
        }
        for (int32_t i = node.min; i < node.max; ++i) {
          nodes_[cur].eps.push_back(to);
          const int32_t next = add_node();
          SLUICE_RETURN_IF_ERROR(emit(item, cur, next));
          cur = next;
        }
        nodes_[cur].eps.push_back(to);
        return Status::ok();
      }
      case K::kRef: {
        if (node.rules == nullptr || node.rule_index < 0 ||
            node.rule_index >= static_cast<int32_t>(node.rules->bodies.size()))
          return Status::error("grammar", "reference to an unknown rule");
        const int32_t rule = rule_for(node.rules, node.rule_index);
        nodes_[from].calls.push_back({rule, to});
        return Status::ok();
      }
      case K::kScope:
        return emit(*node.children[0], from, to);
    }
    return Status::ok();
  }

  // Byte nodes reachable from `n` without input, with the returns pushed on the way.
  Status expand(int32_t n) {
    Exp& x = exps_[n];
    if (x.state == 2) return Status::ok();
    if (x.state == 1)
      return Status::error("grammar", "left recursion: a rule can reach itself without input");
    x.state = 1;
    std::set<std::pair<int32_t, std::vector<int32_t>>> entries;
    bool end = false;
    std::vector<int32_t> work = {n};
    std::unordered_map<int32_t, char> seen = {{n, 1}};
    while (!work.empty()) {
      const int32_t m = work.back();
      work.pop_back();
      const Node& node = nodes_[m];
      if (!node.bytes.empty()) entries.insert({m, {}});
      if (node.rule_end_of >= 0) end = true;
      for (int32_t e : node.eps)
        if (seen.emplace(e, 1).second) work.push_back(e);
      for (auto [rule, ret] : node.calls) {
        const int32_t start = rules_[rule].start;
        SLUICE_RETURN_IF_ERROR(expand(start));
        const Exp& sub = exps_[start];
        for (const auto& [b, pushes] : sub.entries) {
          std::vector<int32_t> p = {ret};
          p.insert(p.end(), pushes.begin(), pushes.end());
          entries.insert({b, std::move(p)});
        }
        if (sub.end && seen.emplace(ret, 1).second) work.push_back(ret);
      }
      if (static_cast<int32_t>(entries.size()) > kMaxExpansionEntries)
        return Status::error("grammar", "too many alternatives reachable without input");
    }
    Exp& done = exps_[n];  // exps_ is not resized during expand
    done.entries.assign(entries.begin(), entries.end());
    done.end = end;
    done.state = 2;
    return Status::ok();
  }

  Result<std::shared_ptr<const Grammar>> finish() {
    for (size_t r = 0; r < rules_.size(); ++r) nodes_[rules_[r].end].rule_end_of = int32_t(r);
    exps_.assign(nodes_.size(), Exp{});
    for (size_t n = 0; n < nodes_.size(); ++n) SLUICE_RETURN_IF_ERROR(expand(int32_t(n)));
    auto g = std::make_shared<Grammar>();
    g->root_ = rules_[0].start;
    const size_t n = nodes_.size();
    g->first_bytes_.assign(n * 8, 0);
    g->edge_begin_.push_back(0);
    g->exp_begin_.push_back(0);
    for (size_t i = 0; i < n; ++i) {
      std::vector<ByteRange> bytes = nodes_[i].bytes;
      std::sort(bytes.begin(), bytes.end(), [](const ByteRange& a, const ByteRange& b) {
        return a.lo != b.lo ? a.lo < b.lo : a.target < b.target;
      });
      for (const ByteRange& e : bytes) {
        g->edges_.push_back({e.lo, e.hi, e.target});
        for (int b = e.lo; b <= e.hi; ++b) g->first_bytes_[i * 8 + (b >> 5)] |= 1u << (b & 31);
      }
      g->edge_begin_.push_back(static_cast<int32_t>(g->edges_.size()));
      for (const auto& [b, pushes] : exps_[i].entries) {
        g->expansions_.push_back(
            {b, static_cast<int32_t>(g->pushes_.size()), static_cast<int32_t>(pushes.size())});
        g->pushes_.insert(g->pushes_.end(), pushes.begin(), pushes.end());
      }
      g->exp_begin_.push_back(static_cast<int32_t>(g->expansions_.size()));
      g->end_reachable_.push_back(exps_[i].end ? 1 : 0);
    }
    FinishCosts costs = compute_finish_costs(*g);
    g->to_end_ = std::move(costs.to_end);
    g->from_top_ = std::move(costs.from_top);
    // The root rule's end pops to "finished"; other rules' ends pop to their caller. Only the
    // root's end node differs in meaning, which the walker handles by the ROOT sentinel.
    return std::shared_ptr<const Grammar>(std::move(g));
  }

  std::vector<Node> nodes_;
  std::vector<Rule> rules_;
  std::map<std::pair<const RuleSet*, int32_t>, int32_t> rule_ids_;
  std::vector<std::pair<int32_t, NodePtr>> pending_;
  std::vector<Exp> exps_;
};

Result<std::shared_ptr<const Grammar>> compile(const NodePtr& root) {
  if (!root) return Status::error("grammar", "null grammar node");
  return GrammarBuilder().build(root);
}

size_t Grammar::memory_bytes() const {
  return edges_.size() * sizeof(Edge) + expansions_.size() * sizeof(Expansion) +
         (edge_begin_.size() + exp_begin_.size() + pushes_.size() + to_end_.size() +
          from_top_.size()) *
             4 +
         end_reachable_.size() + first_bytes_.size() * 4;
}

Grammar::~Grammar() = default;

MaskCache& Grammar::mask_cache(const std::shared_ptr<const TokenVocab>& vocab) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  for (auto& [weak, cache] : caches_) {
    auto v = weak.lock();
    if (v && v.get() == vocab.get()) return *cache;
  }
  std::erase_if(caches_, [](const auto& e) { return e.first.expired(); });
  caches_.emplace_back(vocab, std::make_unique<MaskCache>(*this, vocab));
  return *caches_.back().second;
}

}  // namespace sluice::structured
