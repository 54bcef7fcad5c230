// KvCacheManager with exact block ids: prefix hits, the one-token cap, lazy eviction order,
// failed allocations, fork, and a randomized run that checks the pool's invariants after each op.
#include "kv/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string_view>

namespace sluice::kv {
namespace {

using Ids = std::vector<BlockId>;
constexpr int32_t kBs = 4;

std::vector<int32_t> seq(int n, int32_t start = 1000) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), start);
  return t;
}

std::vector<BlockHash> hashes_of(std::span<const int32_t> tokens, std::string_view salt = "") {
  std::vector<BlockHash> h;
  extend_block_hashes(h, tokens, kBs, root_hash(salt));
  return h;
}

// Prefix lookup, allocation of the whole prompt, and caching of its full blocks.
Ids admit(KvCacheManager& m, RequestId id, std::span<const int32_t> tokens,
          std::string_view salt = "") {
  const std::vector<BlockHash> h = hashes_of(tokens, salt);
  const int32_t n = static_cast<int32_t>(tokens.size());
  const Ids hits = m.find_cached_prefix(h, n);
  EXPECT_TRUE(m.allocate_slots(id, n, hits));
  m.cache_blocks(id, h, n);
  return hits;
}

std::vector<int32_t> ref_counts(const BlockPool& pool) {
  std::vector<int32_t> r;
  for (BlockId b = 0; b < pool.num_blocks(); ++b) r.push_back(pool.ref_count(b));
  return r;
}

TEST(KvCacheManager, PrefixHitAcrossRequests) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> a = seq(14);
  EXPECT_EQ(admit(m, 1, a), Ids{});
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  EXPECT_TRUE(m.pool().hash_of(3).has_value());
  EXPECT_FALSE(m.pool().hash_of(4).has_value());  // partial block

  std::vector<int32_t> b(a.begin(), a.begin() + 12);
  b.insert(b.end(), {7, 7, 7});
  EXPECT_EQ(admit(m, 2, b), (Ids{1, 2, 3}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 3, 5}));
  EXPECT_EQ(ref_counts(m.pool()), (std::vector<int32_t>{0, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 7, 8, 9, 10}));
  EXPECT_EQ(m.stats().queries, 14 + 15);
  EXPECT_EQ(m.stats().hits, 12);
}

TEST(KvCacheManager, DifferentSaltGivesNoHit) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  EXPECT_EQ(admit(m, 2, seq(14), "tenant-b"), Ids{});
  EXPECT_EQ(m.block_table(2), (Ids{5, 6, 7, 8}));
  EXPECT_EQ(admit(m, 3, seq(14), "tenant-b"), (Ids{5, 6, 7}));
  EXPECT_EQ(m.stats().hits, 12);
}

TEST(KvCacheManager, ChangedTokenInBlock2HitsOnlyBlocks0And1) {
  KvCacheManager m(11, kBs, true);
  std::vector<int32_t> a = seq(16);
  admit(m, 1, a);
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  a[9] = -3;
  EXPECT_EQ(admit(m, 2, a), (Ids{1, 2}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 5, 6}));
}

TEST(KvCacheManager, HitOnFreedBlockPullsItOffFreeQueue) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  m.free(1);
  EXPECT_FALSE(m.has(1));
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 4, 3, 2, 1}));  // tail first
  EXPECT_EQ(admit(m, 2, seq(14)), (Ids{1, 2, 3}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 3, 5}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 7, 8, 9, 10, 4}));
  EXPECT_EQ(m.pool().ref_count(1), 1);
  EXPECT_EQ(m.num_free_blocks(), 6);
}

TEST(KvCacheManager, LazyEvictionLeastRecentlyFreedAndTailsFirst) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> a = seq(8, 100);
  const std::vector<int32_t> b = seq(8, 200);
  admit(m, 1, a);  // {1, 2}
  admit(m, 2, b);  // {3, 4}
  m.free(1);
  m.free(2);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 2, 1, 4, 3}));
  admit(m, 3, seq(28, 300));  // 7 blocks: evicts A's tail block 2, keeps its head block 1
  EXPECT_EQ(m.block_table(3), (Ids{5, 6, 7, 8, 9, 10, 2}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{1, 4, 3}));
  const std::vector<BlockHash> ha = hashes_of(a);
  EXPECT_EQ(m.pool().lookup(ha[0]), 1);
  EXPECT_EQ(m.pool().lookup(ha[1]), std::nullopt);

  std::vector<int32_t> a9 = a;
  a9.push_back(1);
  std::vector<int32_t> b9 = b;
  b9.push_back(1);
  EXPECT_EQ(m.find_cached_prefix(hashes_of(a9), 9), (Ids{1}));
  EXPECT_EQ(m.find_cached_prefix(hashes_of(b9), 9), (Ids{3, 4}));
}

TEST(KvCacheManager, AtLeastOneTokenLeftToCompute) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(8));  // {1, 2}, both full and cached
  EXPECT_EQ(m.pool().lookup(hashes_of(seq(8))[1]), 2);
  EXPECT_EQ(admit(m, 2, seq(8)), (Ids{1}));  // exactly 2 full blocks: only 1 hit
  EXPECT_EQ(m.block_table(2), (Ids{1, 3}));
  EXPECT_EQ(m.find_cached_prefix(hashes_of(seq(9)), 9), (Ids{1, 2}));
  EXPECT_EQ(m.find_cached_prefix(hashes_of(seq(4)), 4), Ids{});
  EXPECT_EQ(m.find_cached_prefix({}, 0), Ids{});
  EXPECT_EQ(m.stats().queries, 8 + 8 + 9 + 4);
  EXPECT_EQ(m.stats().hits, 4 + 8);
}

TEST(KvCacheManager, FailedAllocationChangesNothing) {
  KvCacheManager m(7, kBs, true);  // 6 usable blocks
  const std::vector<int32_t> a = seq(12);
  admit(m, 1, a);  // {1, 2, 3}, all cached
  m.free(1);
  admit(m, 2, seq(8, 900));  // {4, 5}
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 3, 2, 1}));

  // 20 tokens: 3 hits + 2 new, but 3 of the 4 free blocks are the hits themselves.
  std::vector<int32_t> c = a;
  c.insert(c.end(), 8, 5);
  const std::vector<BlockHash> hc = hashes_of(c);
  const Ids hits = m.find_cached_prefix(hc, 20);
  EXPECT_EQ(hits, (Ids{1, 2, 3}));
  const auto refs = ref_counts(m.pool());
  const Ids queue = m.pool().free_queue();
  EXPECT_FALSE(m.allocate_slots(3, 20, hits));
  EXPECT_FALSE(m.has(3));
  EXPECT_FALSE(m.allocate_slots(2, 28));  // 7 blocks: 5 more needed, 4 free
  EXPECT_EQ(m.block_table(2), (Ids{4, 5}));
  EXPECT_EQ(ref_counts(m.pool()), refs);
  EXPECT_EQ(m.pool().free_queue(), queue);
  EXPECT_EQ(m.pool().lookup(hc[2]), 3);

  EXPECT_TRUE(m.allocate_slots(2, 12));  // one more block for request 2
  EXPECT_EQ(m.block_table(2), (Ids{4, 5, 6}));
  m.free(2);
  EXPECT_EQ(m.pool().free_queue(), (Ids{3, 2, 1, 6, 5, 4}));
  EXPECT_TRUE(m.allocate_slots(3, 20, hits));
  EXPECT_EQ(m.block_table(3), (Ids{1, 2, 3, 6, 5}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{4}));
}

TEST(KvCacheManager, GrowsAndCachesIncrementally) {
  KvCacheManager m(11, kBs, true);
  std::vector<int32_t> t = seq(5);
  EXPECT_TRUE(m.allocate_slots(1, 5));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2}));
  m.cache_blocks(1, hashes_of(t), 3);  // chunked prefill: no full block computed yet
  EXPECT_FALSE(m.pool().hash_of(1).has_value());
  m.cache_blocks(1, hashes_of(t), 5);
  EXPECT_EQ(m.pool().hash_of(1), hashes_of(t)[0]);
  EXPECT_FALSE(m.pool().hash_of(2).has_value());
  t = seq(8);
  EXPECT_TRUE(m.allocate_slots(1, 8));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2}));
  m.cache_blocks(1, hashes_of(t), 8);
  EXPECT_EQ(m.pool().hash_of(2), hashes_of(t)[1]);
  EXPECT_TRUE(m.allocate_slots(1, 9));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3}));
  EXPECT_TRUE(m.allocate_slots(1, 2));  // shrinking asks for nothing
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3}));
}

TEST(KvCacheManager, CachingDisabled) {
  KvCacheManager m(11, kBs, false);
  EXPECT_EQ(admit(m, 1, seq(14)), Ids{});
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  EXPECT_FALSE(m.pool().hash_of(1).has_value());
  m.free(1);
  EXPECT_EQ(admit(m, 2, seq(14)), Ids{});
  EXPECT_EQ(m.block_table(2), (Ids{5, 6, 7, 8}));
  EXPECT_EQ(m.stats().queries, 0);
  EXPECT_EQ(m.stats().hits, 0);
}

TEST(KvCacheManager, ForkSharesFullBlocksAndCopiesPartial) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> p = seq(10);
  admit(m, 1, p);  // {1, 2, 3}
  const auto f1 = m.fork(1, 2, 10);
  ASSERT_TRUE(f1.has_value());
  ASSERT_TRUE(f1->has_value());
  EXPECT_EQ(**f1, (std::pair<BlockId, BlockId>{3, 4}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 4}));
  const auto f2 = m.fork(1, 3, 8);
  ASSERT_TRUE(f2.has_value());
  EXPECT_FALSE(f2->has_value());
  EXPECT_EQ(m.block_table(3), (Ids{1, 2}));
  EXPECT_EQ(ref_counts(m.pool()), (std::vector<int32_t>{0, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0}));

  // The child caches its own third block once it fills it (blocks 0-1 count as cached).
  std::vector<int32_t> c = p;
  c.insert(c.end(), {55, 56});
  const std::vector<BlockHash> hc = hashes_of(c);
  m.cache_blocks(2, hc, 12);
  EXPECT_EQ(m.pool().hash_of(4), hc[2]);
  EXPECT_FALSE(m.pool().hash_of(3).has_value());

  m.free(1);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 3}));
  m.free(2);
  m.free(3);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 3, 4, 2, 1}));
  EXPECT_EQ(m.num_free_blocks(), 10);
}

TEST(KvCacheManager, ForkWithoutRoomChangesNothing) {
  KvCacheManager m(4, kBs, true);  // 3 usable blocks
  admit(m, 1, seq(10));            // {1, 2, 3}
  const auto refs = ref_counts(m.pool());
  EXPECT_FALSE(m.fork(1, 2, 10).has_value());
  EXPECT_FALSE(m.has(2));
  EXPECT_EQ(ref_counts(m.pool()), refs);
  const auto f = m.fork(1, 2, 8);  // only full blocks: no room needed
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->has_value());
  EXPECT_EQ(m.block_table(2), (Ids{1, 2}));
}

TEST(KvCacheManager, ResetPrefixCache) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  EXPECT_FALSE(m.reset_prefix_cache());
  EXPECT_EQ(m.find_cached_prefix(hashes_of(seq(14)), 14), (Ids{1, 2, 3}));
  m.free(1);
  EXPECT_TRUE(m.reset_prefix_cache());
  EXPECT_EQ(m.find_cached_prefix(hashes_of(seq(14)), 14), Ids{});
  EXPECT_EQ(m.num_free_blocks(), 10);
  EXPECT_DOUBLE_EQ(m.usage(), 0.0);
}

TEST(KvCacheManager, FreeOfUnknownRequestIsNoop) {
  KvCacheManager m(5, kBs, true);
  m.free(42);
  EXPECT_EQ(m.num_free_blocks(), 4);
}

TEST(KvCacheManagerDeathTest, CachedPrefixForRunningRequestAborts) {
  EXPECT_DEATH(
      {
        KvCacheManager m(11, kBs, true);
        admit(m, 1, seq(14));
        const Ids hits{1};
        m.allocate_slots(1, 20, hits);
      },
      "cached_prefix given for a running request");
  EXPECT_DEATH(
      {
        KvCacheManager m(4, kBs, true);
        admit(m, 1, seq(8));  // {1, 2}
        m.free(1);
        const Ids hits = m.find_cached_prefix(hashes_of(seq(9)), 9);  // {1, 2}
        m.allocate_slots(2, 12);                                      // evicts 3, 2, 1
        m.allocate_slots(3, 9, hits);
      },
      "cached_prefix block no longer cached");
}

// ---- Randomized: a toy engine over random prompts with shared prefixes. ----

struct SimRequest {
  std::vector<int32_t> tokens;  // prompt + sampled; the last one may be uncomputed
  std::string salt;
  std::vector<BlockHash> hashes;
  int32_t num_computed = 0;
};

class RandomSim {
 public:
  RandomSim() : m_(kNumBlocks, kBs, true), kv_(kNumBlocks, std::vector<int32_t>(kBs, -1)) {}

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
  int num_hits_ = 0, num_copies_ = 0, num_failed_ = 0;

 private:
  static constexpr int32_t kNumBlocks = 33;
  static constexpr int32_t kMaxTokens = 60;

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
    const Ids hits = m_.find_cached_prefix(q.hashes, n);
    ASSERT_LT(static_cast<int32_t>(hits.size()) * kBs, n);
    for (size_t i = 0; i < hits.size(); ++i)  // a hit holds exactly this prompt's tokens
      ASSERT_EQ(kv_[hits[i]],
                std::vector<int32_t>(q.tokens.begin() + i * kBs, q.tokens.begin() + (i + 1) * kBs));
    num_hits_ += !hits.empty();
    q.num_computed = static_cast<int32_t>(hits.size()) * kBs;
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
    const auto copy = m_.fork(parent, child, p.num_computed);
    if (!copy) {
      ++num_failed_;
      EXPECT_FALSE(m_.has(child));
      EXPECT_EQ(ref_counts(m_.pool()), refs);
      return;
    }
    EXPECT_EQ(copy->has_value(), p.num_computed % kBs != 0);
    if (*copy) {
      ++num_copies_;
      EXPECT_EQ(m_.pool().ref_count((*copy)->second), 1);
      kv_[(*copy)->second] = kv_[(*copy)->first];
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

  bool allocate_or_check_unchanged(RequestId id, int32_t target, std::span<const BlockId> hits) {
    const auto refs = ref_counts(m_.pool());
    const Ids queue = m_.pool().free_queue();
    const Ids table = m_.has(id) ? m_.block_table(id) : Ids{};
    if (m_.allocate_slots(id, target, hits)) return true;
    ++num_failed_;
    EXPECT_EQ(ref_counts(m_.pool()), refs);
    EXPECT_EQ(m_.pool().free_queue(), queue);
    EXPECT_EQ(m_.has(id) ? m_.block_table(id) : Ids{}, table);
    return false;
  }

  // Writes KV for tokens [num_computed, target), caches full blocks, samples at the prompt end.
  void compute(RequestId id, int32_t target) {
    SimRequest& q = reqs_.at(id);
    const Ids& table = m_.block_table(id);
    ASSERT_GE(static_cast<int32_t>(table.size()) * kBs, target);
    for (int32_t pos = q.num_computed; pos < target; ++pos) {
      const BlockId b = table[pos / kBs];
      ASSERT_EQ(m_.pool().ref_count(b), 1) << "write into a shared block";
      kv_[b][pos % kBs] = q.tokens[pos];
    }
    q.num_computed = target;
    m_.cache_blocks(id, q.hashes, target);
    if (target == static_cast<int32_t>(q.tokens.size())) {
      q.tokens.push_back(pick(5));
      extend_block_hashes(q.hashes, q.tokens, kBs, root_hash(q.salt));
    }
  }

  void check_invariants() {
    const BlockPool& pool = m_.pool();
    std::vector<int32_t> expected(kNumBlocks, 0);
    for (const auto& [id, q] : reqs_) {
      const Ids& table = m_.block_table(id);
      ASSERT_GE(static_cast<int32_t>(table.size()) * kBs, q.num_computed);
      for (int32_t pos = 0; pos < q.num_computed; ++pos)  // nobody clobbered this request's KV
        ASSERT_EQ(kv_[table[pos / kBs]][pos % kBs], q.tokens[pos]) << "request " << id;
      for (BlockId b : table) {
        ASSERT_GT(b, 0);
        ++expected[b];
      }
      for (BlockHash h : q.hashes) {
        if (auto b = pool.lookup(h)) {
          ASSERT_EQ(pool.hash_of(*b), h);
        }
      }
    }
    int32_t in_use = 0;
    for (BlockId b = 0; b < kNumBlocks; ++b) {
      ASSERT_EQ(pool.ref_count(b), expected[b]) << "block " << b;
      in_use += expected[b] > 0;
      if (auto h = pool.hash_of(b)) {
        ASSERT_EQ(pool.lookup(*h), b);
      }
    }
    ASSERT_EQ(pool.num_free_blocks() + in_use, kNumBlocks - 1);
    const Ids queue = pool.free_queue();
    ASSERT_EQ(static_cast<int32_t>(queue.size()), pool.num_free_blocks());
    std::vector<bool> seen(kNumBlocks, false);
    for (BlockId b : queue) {
      ASSERT_TRUE(b > 0 && !seen[b] && expected[b] == 0) << "block " << b;
      seen[b] = true;
    }
  }

  std::mt19937 rng_{20240611};
  std::map<RequestId, SimRequest> reqs_;
  RequestId next_id_ = 1;
  std::vector<std::vector<int32_t>> kv_;  // [num_blocks][block_size] token written per slot
};

TEST(KvCacheManager, RandomizedInvariants) {
  RandomSim sim;
  sim.run(1000);
  const KvCacheManager& m = sim.m_;
  EXPECT_EQ(m.num_free_blocks(), m.pool().num_blocks() - 1);
  EXPECT_DOUBLE_EQ(m.usage(), 0.0);
  EXPECT_GT(sim.num_hits_, 10);  // the run exercised hits, copies and "no room"
  EXPECT_GT(sim.num_copies_, 5);
  EXPECT_GT(sim.num_failed_, 5);
  EXPECT_GT(m.stats().hits, 0);
  EXPECT_TRUE(sim.m_.reset_prefix_cache());
}

}  // namespace
}  // namespace sluice::kv
