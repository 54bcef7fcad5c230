#include "structured/grammar_matcher.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "structured/compiled_grammar.h"
#include "structured/finish_costs.h"
#include "structured/mask_cache.h"
#include "structured/token_walker.h"

namespace sluice::structured {

namespace {

// One stack's accepted tokens that add at most `slack` bytes to finish, OR-ed into bitmask.
void add_accepted_within(const NodeMask& nm, int64_t slack, const TokenVocab& vocab,
                         std::vector<uint32_t>& tmp, std::span<uint32_t> bitmask) {
  auto bit = [](std::span<uint32_t> bits, int32_t id, bool on) {
    if (size_t(id >> 5) >= bits.size()) return;
    if (on)
      bits[id >> 5] |= 1u << (id & 31);
    else
      bits[id >> 5] &= ~(1u << (id & 31));
  };
  if (slack < 0) {  // only tokens that make enough progress, the smallest changes first
    for (size_t k = 0; k < nm.changes.size() && nm.changes[k] <= slack; ++k)
      bit(bitmask, nm.change_ids[k], true);
    return;
  }
  // Every accepted token but those adding more than the slack (and the mixed, checked apart).
  if (!nm.accepted_bits.empty()) {
    tmp.assign(nm.accepted_bits.begin(), nm.accepted_bits.begin() + bitmask.size());
  } else {
    tmp.assign(bitmask.size(), 0u);
    for (int32_t id : nm.accepted_ids) bit(tmp, id, true);
  }
  for (size_t k = nm.changes.size(); k-- > 0 && nm.changes[k] > slack;)
    bit(tmp, nm.change_ids[k], false);
  for (int32_t i : nm.mixed) bit(tmp, vocab.sorted_id(i), false);
  for (size_t w = 0; w < bitmask.size(); ++w) bitmask[w] |= tmp[w];
}

}  // namespace

struct GrammarMatcher::Impl {
  Impl(std::shared_ptr<const Grammar> g, std::shared_ptr<const TokenVocab> v)
      : grammar(std::move(g)),
        vocab(std::move(v)),
        cache(grammar->mask_cache(vocab)),
        walker(*grammar, *vocab, pool) {
    StackStepper stepper(*grammar, pool);
    stepper.close(grammar->root(), kRootFrame, stacks, 0, flags);
  }

  std::shared_ptr<const Grammar> grammar;
  std::shared_ptr<const TokenVocab> vocab;
  MaskCache& cache;
  FramePool pool;
  TokenWalker walker;
  std::vector<Stack> stacks;      // current state: byte-node stacks
  StepFlags flags;                // flags.finished: the bytes so far form a complete match
  bool ended = false;             // an end-of-generation token was accepted
  std::vector<uint32_t> scratch;  // one stack's share of a budget mask
};

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const TokenVocab> vocab)
    : impl_(std::make_unique<Impl>(std::move(grammar), std::move(vocab))) {}

GrammarMatcher::~GrammarMatcher() = default;

void GrammarMatcher::fill_mask(std::span<uint32_t> bitmask) {
  fill_budget_mask(bitmask, kNoFinish);
}

void GrammarMatcher::fill_mask(std::span<uint32_t> bitmask, int32_t tokens_left) {
  const int64_t need = min_bytes_to_finish();
  fill_budget_mask(
      bitmask, int32_t(std::min<int64_t>(std::max<int64_t>(tokens_left - 2, need - 1), kNoFinish)));
}

void GrammarMatcher::fill_finishing_mask(std::span<uint32_t> bitmask) {
  fill_budget_mask(bitmask, min_bytes_to_finish() - 1);
}

int32_t GrammarMatcher::min_bytes_to_finish() const {
  const Impl& m = *impl_;
  return m.ended ? 0 : state_finish_bytes(*m.grammar, m.pool, m.stacks, m.flags);
}

void GrammarMatcher::fill_budget_mask(std::span<uint32_t> bitmask, int32_t max_bytes_after) {
  Impl& m = *impl_;
  std::fill(bitmask.begin(), bitmask.end(), 0u);
  if (m.ended) return;
  const size_t words = std::min(bitmask.size(), size_t((m.vocab->size() + 31) / 32));
  auto set_bit = [&](int32_t id) {
    if (size_t(id >> 5) < words) bitmask[id >> 5] |= 1u << (id & 31);
  };
  const bool limited = max_bytes_after < kNoFinish;
  // Tokens decided on the real stack: kept when what they leave fits the limit.
  auto if_fits = [&](int32_t sorted, std::span<const Stack> st, const StepFlags& f) {
    if (state_finish_bytes(*m.grammar, m.pool, st, f) <= max_bytes_after)
      set_bit(m.vocab->sorted_id(sorted));
  };
  for (const Stack& s : m.stacks) {
    const NodeMask& nm = m.cache.get(s.node);
    const std::span<const Stack> one(&s, 1);
    // How much an accepted token may add to this stack's bytes to finish and still fit.
    const int64_t slack =
        limited ? int64_t(max_bytes_after) - stack_finish_bytes(*m.grammar, m.pool, s) : INT64_MAX;
    if (nm.max_increase == INT32_MIN || slack >= nm.max_increase) {
      if (!nm.accepted_bits.empty()) {
        for (size_t w = 0; w < words; ++w) bitmask[w] |= nm.accepted_bits[w];
      } else {
        for (int32_t id : nm.accepted_ids) set_bit(id);
      }
    } else if (nm.changes_dropped) {
      m.walker.walk_all(one, if_fits);  // every token of this stack, uncertain ones included
      continue;
    } else {
      add_accepted_within(nm, slack, *m.vocab, m.scratch, bitmask.first(words));
      m.walker.check(one, nm.mixed, nm.mixed_lcp, if_fits);
    }
    if (nm.uncertain.empty()) continue;
    if (limited) {  // they pop into the caller: what they leave needs the real stack
      m.walker.check(one, nm.uncertain, nm.uncertain_lcp, if_fits);
    } else {
      m.walker.check(one, nm.uncertain, nm.uncertain_lcp,
                     [&](int32_t sorted) { set_bit(m.vocab->sorted_id(sorted)); });
    }
  }
  if (m.flags.finished)
    for (int32_t id : m.vocab->eog_ids()) set_bit(id);
}

bool GrammarMatcher::accept(int32_t token) {
  Impl& m = *impl_;
  if (m.ended || token < 0 || token >= m.vocab->size()) return false;
  if (m.vocab->is_eog(token)) {
    if (!m.flags.finished) return false;
    m.ended = true;
    return true;
  }
  const std::string& bytes = m.vocab->token_bytes(token);
  if (bytes.empty()) return false;
  std::vector<Stack> next;
  StepFlags flags;
  if (!m.walker.run(m.stacks, bytes, next, flags)) return false;
  m.stacks = std::move(next);
  m.flags = flags;
  return true;
}

bool GrammarMatcher::can_finish() const {
  return impl_->flags.finished;
}

std::unique_ptr<GrammarMatcher> GrammarMatcher::clone() const {
  auto copy = std::make_unique<GrammarMatcher>(impl_->grammar, impl_->vocab);
  copy->impl_->pool = impl_->pool;
  copy->impl_->stacks = impl_->stacks;
  copy->impl_->flags = impl_->flags;
  copy->impl_->ended = impl_->ended;
  return copy;
}

size_t GrammarMatcher::num_stacks() const {
  return impl_->stacks.size();
}

bool GrammarMatcher::must_finish() const {
  return impl_->ended || (impl_->flags.finished && impl_->stacks.empty());
}

}  // namespace sluice::structured
