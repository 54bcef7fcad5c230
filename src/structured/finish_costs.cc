#include "structured/finish_costs.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace sluice::structured {

namespace {

// One term of the fixpoint: head = constant + the sum of its dependencies, once all are known.
struct Production {
  int32_t head = 0;
  int32_t remaining = 0;  // dependencies not yet final
  int64_t sum = 0;
};

}  // namespace

FinishCosts compute_finish_costs(const Grammar& g) {
  const int32_t n = g.num_nodes();
  // Variables: v < n is to_end(v); n + b is from_top(b).
  const int32_t num_vars = 2 * n;
  std::vector<Production> prods;
  std::vector<int32_t> deps;  // per production, its dependency variables (repeats counted)
  std::vector<int32_t> dep_begin = {0};
  auto add = [&](int32_t head, int64_t constant, auto&& each_dep) {
    prods.push_back({head, 0, constant});
    each_dep([&](int32_t v) {
      deps.push_back(v);
      ++prods.back().remaining;
    });
    dep_begin.push_back(static_cast<int32_t>(deps.size()));
  };
  const int32_t* pushes = g.pushes();
  for (int32_t v = 0; v < n; ++v) {
    for (const Grammar::Expansion& e : g.expansion(v))
      add(v, 0, [&](auto&& dep) {
        dep(n + e.byte_node);
        for (int32_t k = 0; k < e.push_len; ++k) dep(pushes[e.push_begin + k]);
      });
    for (const Grammar::Edge& e : g.edges(v)) add(n + v, 1, [&](auto&& dep) { dep(e.target); });
  }
  // Which productions each variable feeds (CSR).
  std::vector<int32_t> use_begin(num_vars + 1, 0), uses(deps.size());
  for (int32_t v : deps) ++use_begin[v + 1];
  for (int32_t v = 0; v < num_vars; ++v) use_begin[v + 1] += use_begin[v];
  std::vector<int32_t> fill(use_begin.begin(), use_begin.end() - 1);
  for (size_t p = 0; p + 1 < dep_begin.size(); ++p)
    for (int32_t k = dep_begin[p]; k < dep_begin[p + 1]; ++k) uses[fill[deps[k]]++] = int32_t(p);

  std::vector<int32_t> best(num_vars, kNoFinish);
  std::vector<uint8_t> done(num_vars, 0);
  using Item = std::pair<int32_t, int32_t>;  // (value, variable)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  auto offer = [&](int32_t v, int64_t value) {
    if (value < best[v]) {
      best[v] = static_cast<int32_t>(value);
      queue.push({best[v], v});
    }
  };
  for (int32_t v = 0; v < n; ++v)
    if (g.end_reachable(v)) offer(v, 0);
  for (Production& p : prods)
    if (p.remaining == 0) offer(p.head, p.sum);
  while (!queue.empty()) {
    const auto [value, v] = queue.top();
    queue.pop();
    if (done[v] || value != best[v]) continue;
    done[v] = 1;
    for (int32_t k = use_begin[v]; k < use_begin[v + 1]; ++k) {
      Production& p = prods[uses[k]];
      p.sum += value;
      if (--p.remaining == 0) offer(p.head, std::min<int64_t>(p.sum, kNoFinish));
    }
  }
  FinishCosts c;
  c.to_end.assign(best.begin(), best.begin() + n);
  c.from_top.assign(best.begin() + n, best.end());
  return c;
}

int32_t stack_finish_bytes(const Grammar& g, const FramePool& pool, const Stack& s) {
  int64_t c = g.bytes_from_top(s.node);
  for (int32_t f = s.parent; f >= 0 && c < kNoFinish; f = pool.parent(f))
    c += g.bytes_to_end(pool.node(f));
  return static_cast<int32_t>(std::min<int64_t>(c, kNoFinish));
}

int32_t state_finish_bytes(const Grammar& g, const FramePool& pool, std::span<const Stack> stacks,
                           const StepFlags& flags) {
  if (flags.finished) return 0;
  int32_t best = kNoFinish;
  for (const Stack& s : stacks) best = std::min(best, stack_finish_bytes(g, pool, s));
  return best;
}

}  // namespace sluice::structured
