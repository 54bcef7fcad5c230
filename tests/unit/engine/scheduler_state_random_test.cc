// The scheduler with a StatePool under 1,000 random requests (shared prefixes, salts, chunked
// prefill, n = 2 forks, aborts; pools small enough that admission waits for live slots, blocks
// run out and snapshots are evicted). A toy engine keeps each slot's state as the fold of the
// tokens run through it, restores and saves as the plan says, and checks before every forward
// that each sequence's state is exactly that of its computed tokens. At the end every block,
// live slot and pending snapshot is free again.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "engine/scheduler.h"

namespace sluice {
namespace {

constexpr int32_t kBs = 4;
constexpr int32_t kBudget = 16;
constexpr int32_t kMaxSeqs = 6;

// A recurrent state: how many tokens were folded in and a hash of them, in order.
struct State {
  int64_t count = -1;  // -1: garbage (a slot's content before a fresh start or a restore)
  uint64_t hash = 0;
  bool operator==(const State&) const = default;
};

State fold(State s, int32_t token) {
  return {s.count + 1, s.hash * 1000003u + static_cast<uint32_t>(token) + 1};
}

State state_of(const Sequence& q, int32_t num_tokens) {
  State s{0, 0};
  for (int32_t i = 0; i < num_tokens; ++i) s = fold(s, q.tokens[i]);
  return s;
}

struct SimConfig {
  std::vector<int32_t> windows;
  int32_t num_blocks, num_live, num_snapshots, interval_blocks;
};

class StateSim {
 public:
  explicit StateSim(const SimConfig& c)
      : kv_(c.num_blocks, kBs, true, c.windows),
        states_(c.num_live, c.num_snapshots),
        c_(c),
        sched_({kBudget, kMaxSeqs, c.interval_blocks}, kv_, &states_),
        slots_(c.num_live + c.num_snapshots) {}

  void run(int num_requests) {
    while (num_added_ < num_requests || sched_.has_work()) {
      if (num_added_ < num_requests && pick(3) == 0) add_request();
      if (!seqs_.empty() && pick(25) == 0) finish(random_seq());  // abort
      step();
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_LT(++num_steps_, 100000) << "no progress";
    }
  }

  kv::KvCacheManager kv_;
  kv::StatePool states_;
  int num_steps_ = 0, num_restores_ = 0, num_saves_ = 0, num_evictions_ = 0, num_preempted_ = 0;
  int num_slot_waits_ = 0, num_forks_ = 0, num_cut_hits_ = 0;

 private:
  struct Meta {
    int32_t max_output;
    bool fork;
  };

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Sequence* random_seq() {
    auto it = seqs_.begin();
    std::advance(it, pick(static_cast<int>(seqs_.size())));
    return it->second.get();
  }
  int32_t prompt_end(const Sequence& q) const { return q.num_prompt_tokens / kBs * kBs; }
  bool is_boundary(const Sequence& q, int32_t pos) const {
    const int32_t every = c_.interval_blocks * kBs;
    return pos > 0 &&
           (pos == prompt_end(q) || (every > 0 && pos < prompt_end(q) && pos % every == 0));
  }

  void add_request() {
    auto q = std::make_unique<Sequence>();
    q->id = next_id_++;
    const int base = pick(3), shared = pick(30), extra = 1 + pick(10);
    for (int i = 0; i < shared; ++i) q->tokens.push_back(base * 1000 + i);  // common prefixes
    for (int i = 0; i < extra; ++i) q->tokens.push_back(pick(5));
    q->num_prompt_tokens = q->num_tokens();
    q->root_hash = kv::root_hash(pick(5) == 0 ? "salt" : "");
    meta_[q->id] = {1 + pick(6), pick(8) == 0};
    sched_.add(q.get());
    seqs_.emplace(q->id, std::move(q));
    ++num_added_;
  }

  void finish(Sequence* q) {
    sched_.remove(q);
    EXPECT_FALSE(kv_.has(q->id));
    EXPECT_FALSE(states_.has(q->id));
    seqs_.erase(q->id);
  }

  void check_plan(const SchedulerOutput& out, const std::set<kv::RequestId>& was_running) {
    int32_t total = 0;
    std::set<kv::StateSlot> live, saves;
    for (const ScheduledSequence& s : out.scheduled) {
      const Sequence& q = *s.seq;
      const int32_t c = q.num_computed, n = s.num_new_tokens;
      total += n;
      ASSERT_GT(n, 0);
      ASSERT_TRUE(states_.has(q.id));
      ASSERT_EQ(states_.slot(q.id), q.state_slot);
      ASSERT_LT(q.state_slot, c_.num_live);
      ASSERT_TRUE(live.insert(q.state_slot).second) << "two sequences on one live slot";
      for (int32_t b = c + 1; b < c + n; ++b)
        ASSERT_FALSE(is_boundary(q, b)) << "chunk crosses " << b;
      if (s.save_to >= 0) {
        ASSERT_TRUE(is_boundary(q, c + n));
        ASSERT_GE(s.save_to, c_.num_live);
        ASSERT_TRUE(saves.insert(s.save_to).second) << "two saves into one snapshot slot";
      }
      if (s.restore_from >= 0) {
        ASSERT_FALSE(was_running.contains(q.id)) << "restore only at admission";
        ASSERT_GE(s.restore_from, c_.num_live);
        ASSERT_TRUE(c > 0 && c % kBs == 0 && c <= prompt_end(q)) << c;
      } else if (!was_running.contains(q.id)) {
        ASSERT_EQ(c, 0) << "admitted past token 0 without a state";
      }
    }
    ASSERT_EQ(total, out.num_tokens);
    ASSERT_LE(total, kBudget);
    for (const Sequence* p : out.preempted) {
      ASSERT_EQ(p->state_slot, -1);
      ASSERT_FALSE(states_.has(p->id));
      ASSERT_FALSE(kv_.has(p->id));
    }
  }

  void step() {
    std::set<kv::RequestId> was_running;
    for (const auto& [id, q] : seqs_)
      if (q->status == SequenceStatus::kRunning) was_running.insert(id);
    const SchedulerOutput out = sched_.schedule();
    num_preempted_ += static_cast<int>(out.preempted.size());
    num_slot_waits_ += out.preempted.empty() && sched_.num_waiting() > 0 &&
                       sched_.num_running() < size_t{kMaxSeqs} && states_.num_free_live() == 0;
    check_plan(out, was_running);
    if (::testing::Test::HasFatalFailure()) return;
    // Before the forward: a new owner's slot is garbage until restored or started fresh.
    for (const ScheduledSequence& s : out.scheduled) {
      const Sequence& q = *s.seq;
      if (!was_running.contains(q.id)) slots_[q.state_slot] = State{};
      if (s.restore_from >= 0) {
        slots_[q.state_slot] = slots_[s.restore_from];
        ++num_restores_;
        num_cut_hits_ += q.num_computed < max_kv_hit(q);
      } else if (q.num_computed == 0) {
        slots_[q.state_slot] = State{0, 0};
      }
      ASSERT_EQ(slots_[q.state_slot], state_of(q, q.num_computed)) << "sequence " << q.id;
    }
    for (const ScheduledSequence& s : out.scheduled)  // the forward
      for (int32_t p = s.seq->num_computed; p < s.seq->num_computed + s.num_new_tokens; ++p)
        slots_[s.seq->state_slot] = fold(slots_[s.seq->state_slot], s.seq->tokens[p]);
    for (const ScheduledSequence& s : out.scheduled) {  // after it: the saves
      if (s.save_to < 0) continue;
      slots_[s.save_to] = slots_[s.seq->state_slot];
      ++num_saves_;
      num_evictions_ += saved_.contains(s.save_to);
      saved_.insert(s.save_to);
    }
    sched_.on_step_done(out);
    for (const ScheduledSequence& s : out.scheduled)
      if (s.seq->num_computed == s.seq->num_tokens()) sample(s.seq);
  }

  // The KV cache's own hit for q, capped as find_cached_prefix caps it (one token left).
  int32_t max_kv_hit(const Sequence& q) const {
    int32_t k = 0;
    const int32_t cap = (q.num_tokens() - 1) / kBs;
    while (k < cap && kv_.pool().lookup(q.block_hashes[k])) ++k;
    return k * kBs;
  }

  // Samples a token; the first one forks an n = 2 request the way the engine does.
  void sample(Sequence* q) {
    Meta& m = meta_[q->id];
    if (m.fork && q->num_output_tokens() == 0) {
      m.fork = false;
      auto child = std::make_unique<Sequence>(*q);
      child->id = next_id_++;
      child->state_slot = -1;
      meta_[child->id] = {m.max_output, false};
      const bool blocks = kv_.fork(q->id, child->id, q->num_tokens()).has_value();
      std::optional<kv::StateSlot> slot;
      if (blocks) slot = states_.acquire(child->id);
      child->tokens.push_back(pick(5));
      if (slot) {
        child->state_slot = *slot;
        slots_[*slot] = slots_[q->state_slot];
        sched_.add_running(child.get());
        ++num_forks_;
      } else {
        if (blocks) kv_.free(child->id);
        child->num_computed = 0;
        sched_.add(child.get());
      }
      seqs_.emplace(child->id, std::move(child));
    }
    q->tokens.push_back(pick(5));
    sched_.on_tokens_appended(q);
    if (q->num_output_tokens() >= m.max_output) finish(q);
  }

  SimConfig c_;
  Scheduler sched_;
  std::vector<State> slots_;  // [num_live + num_snapshots]
  std::set<kv::StateSlot> saved_;
  std::map<kv::RequestId, std::unique_ptr<Sequence>> seqs_;
  std::unordered_map<kv::RequestId, Meta> meta_;
  std::mt19937 rng_{20240612};
  kv::RequestId next_id_ = 1;
  int num_added_ = 0;
};

void run_and_check(const SimConfig& c) {
  StateSim sim(c);
  sim.run(1000);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(sim.kv_.num_free_blocks(), c.num_blocks - 1);  // free, cached or not
  EXPECT_EQ(sim.states_.num_free_live(), c.num_live);
  EXPECT_LE(sim.states_.num_snapshots_held(), c.num_snapshots);
  EXPECT_EQ(sim.states_.num_snapshots_pending(), 0);
  // The run exercised what it is meant to.
  EXPECT_GT(sim.num_restores_, 40);
  EXPECT_GT(sim.num_cut_hits_, 10);
  EXPECT_GT(sim.num_saves_, 200);
  EXPECT_GT(sim.num_evictions_, 100);
  EXPECT_GT(sim.num_preempted_, 10);
  EXPECT_GT(sim.num_slot_waits_, 10);
  EXPECT_GT(sim.num_forks_, 10);
}

TEST(SchedulerStateRandom, ThousandRequests) {
  run_and_check({{0}, 20, 4, 6, 2});
}

TEST(SchedulerStateRandom, ThousandRequestsOnlyPromptEndSnapshots) {
  run_and_check({{0}, 20, 4, 3, 0});
}

TEST(SchedulerStateRandom, ThousandRequestsWithASlidingGroup) {
  run_and_check({{0, 8}, 32, 4, 6, 1});
}

}  // namespace
}  // namespace sluice
