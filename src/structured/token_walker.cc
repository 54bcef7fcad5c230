#include "structured/token_walker.h"

#include <climits>

#include "structured/finish_costs.h"

namespace sluice::structured {

void TokenWalker::reset(std::span<const Stack> init) {
  buf_.assign(init.begin(), init.end());
  level_begin_.assign({0, buf_.size()});
  flags_.assign(1, StepFlags{});
  unknown_seen_.assign(1, 0);
  pool_mark_.assign(1, stepper_.pool().mark());
  depth_ = 0;
}

void TokenWalker::truncate(int32_t depth) {
  if (depth >= depth_) return;
  depth_ = depth;
  buf_.resize(level_begin_[depth + 1]);
  level_begin_.resize(depth + 2);
  flags_.resize(depth + 1);
  unknown_seen_.resize(depth + 1);
  stepper_.pool().rollback(pool_mark_[depth]);
  pool_mark_.resize(depth + 1);
}

bool TokenWalker::advance(uint8_t byte) {
  StepFlags f;
  stepper_.step(buf_, level_begin_[depth_], level_begin_[depth_ + 1], byte, f);
  ++depth_;
  level_begin_.push_back(buf_.size());
  flags_.push_back(f);
  unknown_seen_.push_back(unknown_seen_.back() || f.unknown);
  pool_mark_.push_back(stepper_.pool().mark());
  const bool has_stacks = level_begin_[depth_ + 1] > level_begin_[depth_];
  return has_stacks || f.finished;
}

bool TokenWalker::run(std::span<const Stack> init, std::string_view bytes, std::vector<Stack>& out,
                      StepFlags& flags) {
  reset(init);
  bool alive = true;
  for (char c : bytes)
    if (!advance(static_cast<uint8_t>(c))) {
      alive = false;
      break;
    }
  if (alive) {
    out.assign(buf_.begin() + level_begin_[depth_], buf_.begin() + level_begin_[depth_ + 1]);
    flags = flags_[depth_];
  }
  // Keep the frames the final stacks use: drop only the levels, not the pool.
  buf_.clear();
  level_begin_.assign({0, 0});
  depth_ = 0;
  return alive;
}

void TokenWalker::classify(int32_t node, Classified& out) {
  const Stack start{node, kUnknownFrame};
  const int32_t before = g_.bytes_from_top(node);
  reset(std::span<const Stack>(&start, 1));
  walk_sorted(
      [&](int32_t i, int32_t end) {
        // Dead after depth_ bytes: the whole subtree under this prefix shares the fate.
        if (unknown_seen_[depth_])
          for (int32_t j = i; j < end; ++j) out.uncertain.push_back(j);
      },
      [&](int32_t i) {
        if (level_begin_[depth_ + 1] > level_begin_[depth_]) {
          out.accepted.push_back(i);
          // Within the rule: an upper bound, as paths that popped can only make it cheaper.
          int32_t after = kNoFinish;
          for (const Stack& s : level(depth_))
            after = std::min(after, stack_finish_bytes(g_, stepper_.pool(), s));
          const int32_t change = after - before;
          out.max_increase = std::max(out.max_increase, change);
          if (unknown_seen_[depth_])
            out.mixed.push_back(i);
          else if (change != 0)
            out.changes.push_back({change, i});
        } else if (unknown_seen_[depth_]) {
          out.uncertain.push_back(i);
        }
      });
}

}  // namespace sluice::structured
