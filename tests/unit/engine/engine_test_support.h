#pragma once
// What the engine tests share: building requests, draining a request's stream, running requests
// to completion.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace sluice::testing {

// Requests of the random-requests-with-aborts leak tests: 1,000, or 300 in the sanitizer
// builds (ASan ~10x, TSan ~20x slower; the release build runs the full count).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kLeakTestRequests = 300;
#else
constexpr int kLeakTestRequests = 1000;
#endif

// Submits kLeakTestRequests sampled requests (prompt from make_prompt(rng), 1..max_tokens
// tokens, n 1..3), aborting a random earlier one a quarter of the time and pausing now and then
// (the leak tests). Returns the streams; `aborted` counts the aborts.
template <class MakePrompt>
std::vector<std::shared_ptr<RequestStream>> submit_with_random_aborts(Engine& e, std::mt19937& rng,
                                                                      MakePrompt make_prompt,
                                                                      int max_tokens,
                                                                      int& aborted) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < kLeakTestRequests; ++i) {
    EngineRequest r;
    r.id = "q" + std::to_string(i);
    r.prompt = make_prompt(rng);
    r.params.temperature = 1.0f;
    r.params.max_tokens = 1 + static_cast<int>(rng() % max_tokens);
    r.params.n = 1 + static_cast<int>(rng() % 3);
    auto s = e.submit(r);
    EXPECT_TRUE(s) << s.error();
    if (!s) break;
    streams.push_back(*s);
    if (rng() % 4 == 0) {  // abort a random earlier request (maybe already finished)
      e.abort("q" + std::to_string(rng() % (i + 1)));
      ++aborted;
    }
    if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  }
  return streams;
}

inline EngineRequest request(std::string id, std::vector<int32_t> prompt) {
  EngineRequest r;
  r.id = std::move(id);
  r.prompt = std::move(prompt);
  return r;
}

// len tokens drawn from [3, vocab).
inline std::vector<int32_t> random_tokens(std::mt19937& rng, int len, int64_t vocab) {
  std::uniform_int_distribution<int32_t> tok(3, static_cast<int32_t>(vocab) - 1);
  std::vector<int32_t> p(len);
  for (auto& t : p) t = tok(rng);
  return p;
}

struct Result {
  std::map<int32_t, std::vector<int32_t>> tokens;  // per sequence index
  std::map<int32_t, std::vector<float>> logprobs;  // each token's, then its top ones' (if asked)
  RequestStats stats;
  std::string finish;
  std::string text;
};

inline Result drain(RequestStream& s) {
  Result r;
  for (;;) {
    RequestOutput o = *s.next();
    for (const SequenceDelta& d : o.deltas) {
      auto& v = r.tokens[d.index];
      v.insert(v.end(), d.token_ids.begin(), d.token_ids.end());
      for (const SampleOutput& lp : d.logprobs) {
        r.logprobs[d.index].push_back(lp.logprob);
        for (const TokenLogprob& t : lp.top) r.logprobs[d.index].push_back(t.logprob);
      }
      r.text += d.text;
      if (d.finish_reason) r.finish = finish_reason_name(*d.finish_reason);
    }
    if (o.finished) {
      r.stats = o.stats;
      return r;
    }
  }
}

// Submits all requests at once, then collects every result.
inline std::vector<Result> run_all(Engine& e, const std::vector<EngineRequest>& reqs) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const EngineRequest& r : reqs) {
    auto s = e.submit(r);
    EXPECT_TRUE(s) << s.error();
    streams.push_back(*s);
  }
  std::vector<Result> out;
  for (auto& s : streams) out.push_back(drain(*s));
  return out;
}

// Each request's first sequence's tokens.
inline std::vector<std::vector<int32_t>> tokens_of(const std::vector<Result>& rs) {
  std::vector<std::vector<int32_t>> v;
  for (const auto& r : rs) v.push_back(r.tokens.at(0));
  return v;
}

}  // namespace sluice::testing
