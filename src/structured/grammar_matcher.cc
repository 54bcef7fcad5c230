#include "structured/grammar_matcher.h"

#include <algorithm>
#include <cstring>

#include "structured/compiled_grammar.h"
#include "structured/mask_cache.h"
#include "structured/token_walker.h"

namespace sluice::structured {

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
  std::vector<Stack> stacks;  // current state: byte-node stacks
  StepFlags flags;            // flags.finished: the bytes so far form a complete match
  bool ended = false;         // an end-of-generation token was accepted
};

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const TokenVocab> vocab)
    : impl_(std::make_unique<Impl>(std::move(grammar), std::move(vocab))) {}

GrammarMatcher::~GrammarMatcher() = default;

void GrammarMatcher::fill_mask(std::span<uint32_t> bitmask) {
  Impl& m = *impl_;
  std::fill(bitmask.begin(), bitmask.end(), 0u);
  if (m.ended) return;
  const size_t words = std::min(bitmask.size(), size_t((m.vocab->size() + 31) / 32));
  auto set_bit = [&](int32_t id) {
    if (size_t(id >> 5) < words) bitmask[id >> 5] |= 1u << (id & 31);
  };
  for (const Stack& s : m.stacks) {
    const NodeMask& nm = m.cache.get(s.node);
    if (!nm.accepted_bits.empty()) {
      for (size_t w = 0; w < words; ++w) bitmask[w] |= nm.accepted_bits[w];
    } else {
      for (int32_t id : nm.accepted_ids) set_bit(id);
    }
    if (!nm.uncertain.empty())
      m.walker.check(std::span<const Stack>(&s, 1), nm.uncertain, nm.uncertain_lcp,
                     [&](int32_t sorted) { set_bit(m.vocab->sorted_id(sorted)); });
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
