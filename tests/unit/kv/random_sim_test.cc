// KvCacheManager under random operations (a toy engine over random prompts with shared prefixes:
// chunked prefill, decode, fork, free, "no room"), for one full-attention group and for layouts
// with sliding-window groups. After every op: each request's KV is where its tables say, windows
// hold exactly the blocks they still read, ref counts and the free queue agree; at the end every
// block is free again.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "kv/kv_cache_manager.h"
#include "kv_test_util.h"

namespace sluice::kv {
namespace {

using Ids = std::vector<BlockId>;
using testing::kBs;
using testing::ref_counts;

struct SimRequest {
  std::vector<int32_t> tokens;  // prompt + sampled; the last one may be uncomputed
  std::string salt;
  std::vector<BlockHash> hashes;
  int32_t num_computed = 0;
};

class RandomSim {
 public:
  RandomSim(int32_t num_blocks, std::vector<int32_t> windows)
      : m_(num_blocks, kBs, true, windows),
        windows_(windows),
        num_blocks_(num_blocks),
        kv_(num_blocks, std::vector<int32_t>(kBs, -1)) {}

  void run(int num_ops) {
    for (int op = 0; op < num_ops; ++op) {
      const int r = pick(100);
      if (r < 25 || reqs_.empty()) {
        add_request();
      } else if (r < 65) {
        step(random_request());
      } else if (r < 75) {
        fork(random_request());
      } else {
        free(random_request());
      }
      check_invariants();
      if (::testing::Test::HasFatalFailure()) return;
    }
    while (!reqs_.empty()) free(reqs_.begin()->first);
    check_invariants();
  }

  KvCacheManager m_;
  int num_hits_ = 0, num_copies_ = 0, num_failed_ = 0, num_released_ = 0;

 private:
  static constexpr int32_t kMaxTokens = 60;

  int32_t groups() const { return static_cast<int32_t>(windows_.size()); }
  // The first block a token at pos or later reads in group g (the manager's rule, restated).
  int32_t first_read(int32_t g, int32_t pos) const {
    return windows_[g] > 0 ? std::max(0, pos - windows_[g] + 1) / kBs : 0;
  }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  RequestId random_request() {
    auto it = reqs_.begin();
    std::advance(it, pick(static_cast<int>(reqs_.size())));
    return it->first;
  }

  void add_request() {
    SimRequest q;
    q.salt = pick(4) == 0 ? "salt" : "";
    const int base = pick(3), shared = pick(25), extra = 1 + pick(8);
    for (int i = 0; i < shared; ++i) q.tokens.push_back(base * 1000 + i);  // common prefixes
    for (int i = 0; i < extra; ++i) q.tokens.push_back(pick(5));
    extend_block_hashes(q.hashes, q.tokens, kBs, root_hash(q.salt));
    const int32_t n = static_cast<int32_t>(q.tokens.size());
    const CachedPrefix hits = m_.find_cached_prefix(q.hashes, n);
    ASSERT_LT(hits.num_blocks * kBs, n);
    for (int32_t g = 0; g < groups(); ++g) {
      ASSERT_EQ(static_cast<int32_t>(hits.blocks[g].size()), hits.num_blocks);
      for (int32_t i = 0; i < hits.num_blocks; ++i) {
        const BlockId b = hits.blocks[g][i];
        ASSERT_EQ(b == kNullBlock, i < first_read(g, hits.num_blocks * kBs)) << "group " << g;
        if (b != kNullBlock)  // a hit holds exactly this prompt's tokens
          ASSERT_EQ(kv_[b], std::vector<int32_t>(q.tokens.begin() + i * kBs,
                                                 q.tokens.begin() + (i + 1) * kBs));
      }
    }
    num_hits_ += !hits.empty();
    q.num_computed = hits.num_blocks * kBs;
    const RequestId id = next_id_++;
    const int32_t target = std::min(n, q.num_computed + 1 + pick(12));  // chunked prefill
    if (!allocate_or_check_unchanged(id, target, hits)) return;
    reqs_.emplace(id, std::move(q));
    compute(id, target);
  }

  void step(RequestId id) {
    SimRequest& q = reqs_.at(id);
    const int32_t n = static_cast<int32_t>(q.tokens.size());
    if (n >= kMaxTokens) return free(id);  // finished
    const int32_t target = std::min(n, q.num_computed + 1 + pick(8));
    if (!allocate_or_check_unchanged(id, target, {})) return;
    compute(id, target);
  }

  void fork(RequestId parent) {
    const SimRequest& p = reqs_.at(parent);
    if (p.num_computed == 0) return;
    const RequestId child = next_id_++;
    const auto refs = ref_counts(m_.pool());
    const auto copies = m_.fork(parent, child, p.num_computed);
    if (!copies) {
      ++num_failed_;
      EXPECT_FALSE(m_.has(child));
      EXPECT_EQ(ref_counts(m_.pool()), refs);
      return;
    }
    EXPECT_EQ(static_cast<int32_t>(copies->size()), p.num_computed % kBs != 0 ? groups() : 0);
    for (const auto& [src, dst] : *copies) {
      ++num_copies_;
      EXPECT_EQ(m_.pool().ref_count(dst), 1);
      kv_[dst] = kv_[src];
    }
    SimRequest c;
    c.salt = p.salt;
    c.tokens.assign(p.tokens.begin(), p.tokens.begin() + p.num_computed);
    c.num_computed = p.num_computed;
    c.tokens.push_back(pick(5));  // the child samples its own next token
    extend_block_hashes(c.hashes, c.tokens, kBs, root_hash(c.salt));
    reqs_.emplace(child, std::move(c));
  }

  void free(RequestId id) {
    m_.free(id);
    reqs_.erase(id);
  }

  std::vector<Ids> tables(RequestId id) const {
    std::vector<Ids> t;
    for (int32_t g = 0; g < groups() && m_.has(id); ++g) t.push_back(m_.block_table(id, g));
    return t;
  }

  bool allocate_or_check_unchanged(RequestId id, int32_t target, const CachedPrefix& hits) {
    const auto refs = ref_counts(m_.pool());
    const Ids queue = m_.pool().free_queue();
    const std::vector<Ids> before = tables(id);
    if (m_.allocate_slots(id, target, hits)) return true;
    ++num_failed_;
    EXPECT_EQ(ref_counts(m_.pool()), refs);
    EXPECT_EQ(m_.pool().free_queue(), queue);
    EXPECT_EQ(tables(id), before);
    return false;
  }

  // Writes KV for tokens [num_computed, target) in every group, caches full blocks, releases
  // what the windows left, samples at the prompt end.
  void compute(RequestId id, int32_t target) {
    SimRequest& q = reqs_.at(id);
    for (int32_t g = 0; g < groups(); ++g) {
      const Ids& table = m_.block_table(id, g);
      ASSERT_GE(static_cast<int32_t>(table.size()) * kBs, target);
      for (int32_t pos = q.num_computed; pos < target; ++pos) {
        const BlockId b = table[pos / kBs];
        ASSERT_NE(b, kNullBlock) << "write into a released block";
        ASSERT_EQ(m_.pool().ref_count(b), 1) << "write into a shared block";
        kv_[b][pos % kBs] = q.tokens[pos];
      }
    }
    q.num_computed = target;
    m_.cache_blocks(id, q.hashes, target);
    const int32_t free_before = m_.num_free_blocks();
    m_.free_outside_window(id, target);
    num_released_ += m_.num_free_blocks() > free_before;
    if (target == static_cast<int32_t>(q.tokens.size())) {
      q.tokens.push_back(pick(5));
      extend_block_hashes(q.hashes, q.tokens, kBs, root_hash(q.salt));
    }
  }

  void check_invariants() {
    const BlockPool& pool = m_.pool();
    std::vector<int32_t> expected(num_blocks_, 0);
    for (const auto& [id, q] : reqs_) {
      for (int32_t g = 0; g < groups(); ++g) {
        const Ids& table = m_.block_table(id, g);
        ASSERT_GE(static_cast<int32_t>(table.size()) * kBs, q.num_computed);
        const int32_t first = first_read(g, q.num_computed);
        for (int32_t i = 0; i < static_cast<int32_t>(table.size()); ++i)  // exactly the window
          ASSERT_EQ(table[i] == kNullBlock, i < first) << "request " << id << " group " << g;
        for (int32_t pos = first * kBs; pos < q.num_computed; ++pos)  // nobody clobbered it
          ASSERT_EQ(kv_[table[pos / kBs]][pos % kBs], q.tokens[pos]) << "request " << id;
        for (BlockId b : table) expected[b] += b != kNullBlock;
        for (BlockHash h : q.hashes) {
          const BlockHash key = group_hash(h, g);
          if (auto b = pool.lookup(key)) {
            ASSERT_EQ(pool.hash_of(*b), key);
          }
        }
      }
    }
    int32_t in_use = 0;
    for (BlockId b = 0; b < num_blocks_; ++b) {
      ASSERT_EQ(pool.ref_count(b), expected[b]) << "block " << b;
      in_use += expected[b] > 0;
      if (auto h = pool.hash_of(b)) {
        ASSERT_EQ(pool.lookup(*h), b);
      }
    }
    ASSERT_EQ(pool.num_free_blocks() + in_use, num_blocks_ - 1);
    const Ids queue = pool.free_queue();
    ASSERT_EQ(static_cast<int32_t>(queue.size()), pool.num_free_blocks());
    std::vector<bool> seen(num_blocks_, false);
    for (BlockId b : queue) {
      ASSERT_TRUE(b > 0 && !seen[b] && expected[b] == 0) << "block " << b;
      seen[b] = true;
    }
  }

  std::vector<int32_t> windows_;
  int32_t num_blocks_;
  std::mt19937 rng_{20240611};
  std::map<RequestId, SimRequest> reqs_;
  RequestId next_id_ = 1;
  std::vector<std::vector<int32_t>> kv_;  // [num_blocks][block_size] token written per slot
};

void run_and_check(RandomSim& sim, bool sliding) {
  sim.run(1000);
  const KvCacheManager& m = sim.m_;
  EXPECT_EQ(m.num_free_blocks(), m.pool().num_blocks() - 1);
  EXPECT_DOUBLE_EQ(m.usage(), 0.0);
  EXPECT_GT(sim.num_hits_, 10);  // the run exercised hits, copies and "no room"
  EXPECT_GT(sim.num_copies_, 5);
  EXPECT_GT(sim.num_failed_, 5);
  EXPECT_GT(m.stats().hits, 0);
  EXPECT_EQ(sim.num_released_ > 0, sliding);
  EXPECT_TRUE(sim.m_.reset_prefix_cache());
}

TEST(KvCacheManager, RandomizedInvariants) {
  RandomSim sim(33, {0});
  run_and_check(sim, false);
}

// Full + two sliding groups of window 6 (blocks of 4: a token reads its block and one or two
// before); one sliding group alone; a window that is not a multiple of the block size.
TEST(KvCacheManager, RandomizedInvariantsWithSlidingWindows) {
  for (const std::vector<int32_t>& windows :
       {std::vector<int32_t>{0, 6, 6}, std::vector<int32_t>{5}, std::vector<int32_t>{0, 9}}) {
    SCOPED_TRACE(::testing::PrintToString(windows));
    RandomSim sim(33 * static_cast<int32_t>(windows.size()) / 2 + 17, windows);
    run_and_check(sim, true);
  }
}

}  // namespace
}  // namespace sluice::kv
