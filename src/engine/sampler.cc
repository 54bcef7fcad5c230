#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>

#include "common/assert.h"
#include "engine/sampler_kernels.h"

namespace sluice {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr size_t kNucleusSortBelow = 64;  // top-p bisects the rank down to this many, then sorts
constexpr int kBucketsPerNat = 4;         // top-p prefilter: buckets of -log(p / p_max)
constexpr int kNumBuckets = 128;          // the last one is open-ended

// Per-thread buffers of vocab size, shared by all sequences sampled on a thread, so that a
// sequence holds O(distinct tokens) state rather than O(vocab).
struct Scratch {
  std::vector<int32_t> idx;                    // candidate token ids
  std::vector<float> prob;                     // [vocab] unnormalized probs, by token id
  std::vector<float> cand_logit, cand_prob;    // [k] gathered for the top-k candidates
  std::vector<int32_t> cand_ids;               // top-p: tokens of the bucket holding the cut
  std::vector<uint8_t> bucket;                 // top-p: [vocab] bucket of -log(p / p_max)
  std::vector<std::pair<int32_t, float>> raw;  // (token, raw logit) before an in-place edit
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// One uniform double in [0, 1) from the top 53 bits: identical on every standard library.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The ranking: logit descending, then token id ascending (the tie rule everywhere). A strict
// total order once NaNs are gone.
struct ByLogitDesc {
  const float* logit;
  bool operator()(int32_t a, int32_t b) const {
    return logit[a] > logit[b] || (logit[a] == logit[b] && a < b);
  }
};

// Lowest id among the largest logits; NaN never wins. All -inf/NaN: token 0.
int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(sampler_kernels::argmax(logits.data(), logits.size()));
}

void fill_iota(std::vector<int32_t>& idx, size_t n) {
  idx.resize(n);
  std::iota(idx.begin(), idx.end(), 0);
}

// idx = the k (1 <= k <= vocab) best-ranked tokens in any order, idx[k - 1] the k-th. Small k:
// one scan that keeps a buffer of 4k and prunes it against a threshold; else nth_element.
void select_top(const float* logit, size_t vocab, size_t k, std::vector<int32_t>& idx) {
  const ByLogitDesc cmp{logit};
  auto prune = [&] {
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k) - 1, idx.end(), cmp);
    idx.resize(k);
  };
  if (k * 16 > vocab) {
    fill_iota(idx, vocab);
    prune();
    return;
  }
  idx.clear();
  float threshold = kNegInf;
  bool pruned = false;
  for (size_t i = 0; i < vocab; ++i) {
    // A later id with an equal logit ranks below the threshold token: strictly greater only.
    if (pruned && !(logit[i] > threshold)) continue;
    idx.push_back(static_cast<int32_t>(i));
    if (idx.size() == 4 * k) {
      prune();
      threshold = logit[idx[k - 1]];
      pruned = true;
    }
  }
  prune();
}

// Top-p's cut inside idx[begin, end): those are the next best-ranked tokens after mass
// `mass_before`, in any order. Returns the smallest n such that the ranking up to idx[n - 1]
// reaches `target`; bisects the rank with nth_element (O(end - begin)) and sorts only at the
// boundary, so idx[n - 1] is the n-th best.
size_t nucleus_end(std::vector<int32_t>& idx, size_t begin, size_t end, double mass_before,
                   const float* prob, const float* logit, double target) {
  const ByLogitDesc cmp{logit};
  auto at = [&](size_t j) { return idx.begin() + static_cast<std::ptrdiff_t>(j); };
  size_t lo = begin;  // idx[begin, lo) are the best, with mass (plus mass_before) cum_lo < target
  size_t hi = end;    // the answer is in (lo, hi]
  double cum_lo = mass_before;
  while (hi - lo > kNucleusSortBelow) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(at(lo), at(mid), at(hi), cmp);
    double mass = cum_lo;
    for (size_t j = lo; j < mid; ++j) mass += prob[idx[j]];
    if (mass >= target) {
      hi = mid;
    } else {
      lo = mid;
      cum_lo = mass;
    }
  }
  std::sort(at(lo), at(hi), cmp);
  double cum = cum_lo;
  for (size_t j = lo; j < hi; ++j) {
    cum += prob[idx[j]];
    if (cum >= target) return j + 1;  // j >= begin: at least one token of the range stays
  }
  return hi;  // rounding: keep the whole range
}

// Top-p over the whole vocab without ranking it: bucket the mass by -log(p / p_max) to find the
// bucket where the cut falls; tokens above it all stay, and only that bucket's are ranked.
// Returns n with idx[0, n) the nucleus (idx[n - 1] its worst token).
size_t nucleus_of_vocab(const float* logit, const float* prob, size_t vocab, float max_logit,
                        float inv_t, double target, Scratch& s) {
  s.bucket.resize(vocab);
  uint8_t* bucket = s.bucket.data();
  const float scale = inv_t * static_cast<float>(kBucketsPerNat);
  double mass[kNumBuckets] = {};
  size_t count[kNumBuckets] = {};
  for (size_t i = 0; i < vocab; ++i) {
    const float b = (max_logit - logit[i]) * scale;
    bucket[i] = static_cast<uint8_t>(b < kNumBuckets - 1 ? static_cast<int>(b) : kNumBuckets - 1);
    mass[bucket[i]] += prob[i];
    ++count[bucket[i]];
  }
  int cut = kNumBuckets - 1;
  double mass_above = 0.0;
  size_t num_above = 0;
  for (int b = 0; b < kNumBuckets - 1; ++b) {
    if (mass_above + mass[b] >= target) {
      cut = b;
      break;
    }
    mass_above += mass[b];
    num_above += count[b];
  }
  // Branch-free gather (membership is unpredictable): each list has one spare slot at its end.
  std::vector<int32_t>& idx = s.idx;
  std::vector<int32_t>& at_cut = s.cand_ids;
  idx.resize(num_above + count[cut] + 1);
  at_cut.resize(count[cut] + 1);
  size_t na = 0;
  size_t nc = 0;
  for (size_t i = 0; i < vocab; ++i) {
    const auto t = static_cast<int32_t>(i);
    idx[na] = t;
    na += bucket[i] < cut;
    at_cut[nc] = t;
    nc += bucket[i] == cut;
  }
  std::copy(at_cut.begin(), at_cut.begin() + static_cast<std::ptrdiff_t>(nc),
            idx.begin() + static_cast<std::ptrdiff_t>(na));
  return nucleus_end(idx, na, na + nc, mass_above, prob, logit, target);
}

// (8) + (9): one uniform draw over the candidates id_at(0..n), walked in token id order, keeping
// those within min_p of the top: (logit - max) / T >= log(min_p), exact for the top token.
// `total` < 0: sum the kept mass first.
template <class IdAt>
int32_t draw_in_id_order(size_t n, IdAt id_at, const float* prob, const float* logit,
                         float max_logit, float inv_t, float min_p, double total, double u) {
  const float log_min_p = min_p > 0.0f ? std::log(min_p) : kNegInf;
  auto kept = [&](int32_t t) {
    return (prob[t] > 0.0f) & ((logit[t] - max_logit) * inv_t >= log_min_p);
  };
  if (total < 0.0) {
    total = 0.0;
    for (size_t j = 0; j < n; ++j) {
      if (kept(id_at(j))) total += prob[id_at(j)];
    }
  }
  const double target = u * total;
  double cum = 0.0;
  int32_t last = -1;
  for (size_t j = 0; j < n; ++j) {  // no branch on membership, which is unpredictable
    const int32_t t = id_at(j);
    const bool in = kept(t);
    cum += in ? prob[t] : 0.0f;
    last = in ? t : last;
    if (target < cum) return t;  // cum only grows at kept tokens
  }
  return last;  // rounding at the very top of the range; -1 only if nothing had mass
}

}  // namespace

SequenceSampler::SequenceSampler(const SamplingParams& params, uint64_t seed,
                                 std::span<const int32_t> prompt)
    : params_(params), rng_(params.seed.value_or(seed)) {
  penalize_ = params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
              params_.presence_penalty != 0.0f;
  if (params_.repetition_penalty == 1.0f) return;  // only repetition looks at the prompt
  for (int32_t t : prompt) {
    auto [it, inserted] = slot_.try_emplace(t, static_cast<int32_t>(seen_.size()));
    if (inserted) {
      seen_.push_back(t);
      out_count_.push_back(0);
    }
  }
}

void SequenceSampler::record(int32_t token) {
  if (!penalize_) return;
  auto [it, inserted] = slot_.try_emplace(token, static_cast<int32_t>(seen_.size()));
  if (inserted) {
    seen_.push_back(token);
    out_count_.push_back(0);
  }
  ++out_count_[it->second];
}

bool SequenceSampler::apply_bias_and_penalties(std::span<float> logits, bool record_raw) {
  if (params_.logit_bias.empty() && seen_.empty()) return false;
  const auto vocab = static_cast<int64_t>(logits.size());
  auto& raw = scratch().raw;
  raw.clear();
  auto set = [&](int32_t t, float v) {
    if (record_raw) raw.emplace_back(t, logits[t]);
    logits[t] = v;
  };
  for (const auto& [t, bias] : params_.logit_bias) {
    if (t >= 0 && t < vocab) set(t, logits[t] + bias);
  }
  const float rep = params_.repetition_penalty;
  const float freq = params_.frequency_penalty;
  const float pres = params_.presence_penalty;
  for (size_t j = 0; j < seen_.size(); ++j) {
    const int32_t t = seen_[j];
    if (t < 0 || t >= vocab) continue;
    float x = logits[t];
    if (rep != 1.0f) x = x > 0.0f ? x / rep : x * rep;  // HF: prompt + output, once per token
    if (const int32_t c = out_count_[j]; c > 0) {
      x -= freq * static_cast<float>(c) + pres;  // OpenAI: output tokens only
    }
    set(t, x);
  }
  return true;
}

int32_t SequenceSampler::draw(std::span<float> logits) {
  const double u = uniform01(rng_);  // exactly one draw per step, whatever the filters or logits
  const size_t vocab = logits.size();
  const float max_logit = sampler_kernels::sanitize_and_max(logits.data(), vocab);
  if (!std::isfinite(max_logit)) return argmax(logits);  // everything masked, or an overflow
  const float inv_t = 1.0f / params_.temperature;
  if (!std::isfinite(inv_t)) return argmax(logits);  // a denormal temperature is greedy

  Scratch& s = scratch();
  if (s.prob.size() < vocab) s.prob.resize(vocab);
  float* prob = s.prob.data();  // exp((logit - max) / T), by token id, for the candidates
  const float* logit = logits.data();
  std::vector<int32_t>& idx = s.idx;

  // (6) top-k: idx[0, n) holds the k best in any order, idx[n - 1] the k-th. Without it every
  // token is a candidate (idx unused) and probs cover the vocab.
  const size_t top_k = params_.top_k > 0 ? std::min<size_t>(params_.top_k, vocab) : vocab;
  bool every_token = top_k == vocab;
  size_t n = vocab;
  double total = 0.0;
  if (!every_token) {
    select_top(logit, vocab, top_k, idx);
    n = top_k;
    s.cand_logit.resize(n);
    s.cand_prob.resize(n);
    for (size_t j = 0; j < n; ++j) s.cand_logit[j] = logit[idx[j]];
    total =
        sampler_kernels::exp_and_sum(s.cand_logit.data(), n, max_logit, inv_t, s.cand_prob.data());
    for (size_t j = 0; j < n; ++j) prob[idx[j]] = s.cand_prob[j];
  } else {
    total = sampler_kernels::exp_and_sum(logit, vocab, max_logit, inv_t, prob);
  }

  // (7) top-p on the (top-k renormalized) distribution: the best n tokens holding top_p of it.
  if (params_.top_p < 1.0f) {
    const double target = static_cast<double>(params_.top_p) * total;
    if (every_token) {
      n = nucleus_of_vocab(logit, prob, vocab, max_logit, inv_t, target, s);
      every_token = false;
    } else {
      n = nucleus_end(idx, 0, n, 0.0, prob, logit, target);
    }
  }

  // (8), (9) in token id order, so the draw depends only on the kept set, not on how it was found.
  const float min_p = params_.min_p;
  int32_t token = -1;
  if (every_token) {
    // The vocab-wide sum is already known unless min-p drops tokens.
    token = draw_in_id_order(
        vocab, [](size_t j) { return static_cast<int32_t>(j); }, prob, logit, max_logit, inv_t,
        min_p, min_p > 0.0f ? -1.0 : total, u);
  } else if (n * 8 <= vocab) {
    std::sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n));
    token = draw_in_id_order(
        n, [&](size_t j) { return idx[j]; }, prob, logit, max_logit, inv_t, min_p, -1.0, u);
  } else {  // many survivors: list them by walking the vocab rather than sorting the ids
    const int32_t worst = idx[n - 1];
    const float worst_logit = logit[worst];
    if (idx.size() <= vocab) idx.resize(vocab + 1);  // a spare slot for the branch-free write
    size_t w = 0;
    for (size_t t = 0; t < vocab; ++t) {
      const auto id = static_cast<int32_t>(t);
      idx[w] = id;
      w += static_cast<size_t>((logit[t] > worst_logit) |
                               ((logit[t] == worst_logit) & (id <= worst)));
    }
    SLUICE_ASSERT(w == n, "survivors are a prefix of the ranking");
    token = draw_in_id_order(
        n, [&](size_t j) { return idx[j]; }, prob, logit, max_logit, inv_t, min_p, -1.0, u);
  }
  return token >= 0 ? token : argmax(logits);
}

SampleOutput SequenceSampler::sample(std::span<float> logits, const uint32_t* allowed) {
  SLUICE_ASSERT(!logits.empty(), "sample() needs a non-empty vocab");
  const int32_t num_top = params_.logprobs.value_or(0);
  const bool want_logprobs = params_.logprobs.has_value();

  // (1) logprobs from the raw logits: log_softmax, and the top list.
  SampleOutput out{};
  double log_z = 0.0;
  if (want_logprobs) {
    const float m = sampler_kernels::sanitize_and_max(logits.data(), logits.size());
    log_z = std::isfinite(m) ? m + std::log(sampler_kernels::exp_and_sum(
                                       logits.data(), logits.size(), m, 1.0f, nullptr))
                             : m;
    if (num_top > 0) {
      std::vector<int32_t>& idx = scratch().idx;
      const size_t k = std::min<size_t>(num_top, logits.size());
      select_top(logits.data(), logits.size(), k, idx);
      std::sort(idx.begin(), idx.end(), ByLogitDesc{logits.data()});
      out.top.reserve(k);
      for (int32_t t : idx) out.top.push_back({t, static_cast<float>(logits[t] - log_z)});
    }
  }

  // Constrained decoding: tokens outside the mask can never be drawn.
  if (allowed)
    for (size_t t = 0; t < logits.size(); ++t)
      if (!(allowed[t >> 5] >> (t & 31) & 1u)) logits[t] = kNegInf;
  // (2)-(4) bias and penalties, in place; (5)-(9) temperature, filters and the draw.
  const bool edited = apply_bias_and_penalties(logits, want_logprobs);
  // Temperature 0 (or anything not > 0 that slipped past validate()) is greedy.
  out.token = params_.temperature > 0.0f ? draw(logits) : argmax(logits);

  if (want_logprobs) {
    if (edited) {  // put the raw logits back (newest first, so the oldest raw value wins)
      const auto& raw = scratch().raw;
      for (auto it = raw.rbegin(); it != raw.rend(); ++it) logits[it->first] = it->second;
    }
    out.logprob = static_cast<float>(logits[out.token] - log_z);
  }
  record(out.token);
  return out;
}

bool SequenceSampler::plain_greedy() const {
  return !(params_.temperature > 0.0f) && !params_.logprobs.has_value() &&
         params_.logit_bias.empty() && seen_.empty();
}

RowSampling SequenceSampler::row_sampling(int32_t row, int32_t vocab, const uint32_t* allowed) {
  RowSampling r;
  r.row = row;
  r.temperature = params_.temperature;
  r.top_k = params_.top_k;
  r.top_p = params_.top_p;
  r.min_p = params_.min_p;
  if (params_.temperature > 0.0f) r.u = uniform01(rng_);  // where sample() draws its one
  r.num_logprobs = params_.logprobs ? std::min(*params_.logprobs, kMaxTopLogprobs) : -1;
  r.allowed = allowed;
  // The edits of apply_bias_and_penalties, one per token: bias first, then the penalties.
  edits_.clear();
  for (const auto& [t, bias] : params_.logit_bias)
    if (t >= 0 && t < vocab) edits_.push_back({t, bias, 1.0f, 0.0f});
  const float rep = params_.repetition_penalty;
  for (size_t j = 0; j < seen_.size(); ++j) {
    const int32_t t = seen_[j];
    if (t < 0 || t >= vocab) continue;
    const int32_t c = out_count_[j];
    edits_.push_back(
        {t, 0.0f, rep,
         c > 0 ? params_.frequency_penalty * static_cast<float>(c) + params_.presence_penalty
               : 0.0f});
  }
  // stable: a token's bias entries (in request order) come before its penalty entry
  std::stable_sort(
      edits_.begin(), edits_.end(),
      [](const RowSamplingEdit& a, const RowSamplingEdit& b) { return a.token < b.token; });
  size_t w = 0;
  for (size_t j = 0; j < edits_.size(); ++j) {
    if (w > 0 && edits_[w - 1].token == edits_[j].token) {  // merge into the token's edit
      edits_[w - 1].add += edits_[j].add;
      edits_[w - 1].rep = edits_[j].rep;
      edits_[w - 1].sub = edits_[j].sub;
    } else {
      edits_[w++] = edits_[j];
    }
  }
  edits_.resize(w);
  r.edits = edits_;
  return r;
}

SampleOutput SequenceSampler::take(const RowSampled& r) {
  record(r.token);
  SampleOutput out;
  out.token = r.token;
  if (params_.logprobs) {
    out.logprob = r.logprob;
    for (int32_t i = 0; i < r.num_top; ++i) out.top.push_back({r.top_token[i], r.top_logprob[i]});
  }
  return out;
}

SampleOutput SequenceSampler::force(int32_t token) {
  record(token);
  SampleOutput out;
  out.token = token;
  return out;
}

}  // namespace sluice
