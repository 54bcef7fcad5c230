// `sluice grammar`: compile a JSON schema (or JSON mode) against a tokenizer and drive the
// token-mask matcher: random walks print one JSON line per finished output (--budget: within a
// token limit, steering to completion like the server); --bench times fill_mask per token.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "structured/grammar.h"
#include "structured/grammar_matcher.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace {

struct GrammarOptions {
  std::string schema;
  bool json_object = false;
  std::string tokenizer;
  int random_walk = 0;
  uint64_t seed = 0;
  int max_tokens = 2000;
  int budget_slack = -1;  // >= 0: limit = bytes needed at the start + 1 + slack, budget rule on
  bool bench = false;
  int bench_walks = 5;
};

struct Walk {
  std::string text;
  int tokens = 0;
  int max_tokens = 0;
  bool finished = false;
  std::vector<double> mask_us;
  std::vector<double> finishing_us;  // fill_finishing_mask on every 4th state (--bench)
};

double micros_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

// One walk: random allowed tokens; prefers end-of-generation (and short tokens) so walks end.
// budget_slack >= 0: the masks follow the server's budget rule for a limit that leaves that many
// tokens beyond the fewest that can finish.
Result<Walk> walk(const std::shared_ptr<const structured::Grammar>& g,
                  const std::shared_ptr<const structured::TokenVocab>& vocab, std::mt19937_64& rng,
                  int max_tokens, int budget_slack, bool time_finishing) {
  structured::GrammarMatcher m(g, vocab);
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  std::vector<int32_t> allowed, short_allowed;
  Walk w;
  if (budget_slack >= 0) max_tokens = m.min_bytes_to_finish() + 1 + budget_slack;
  w.max_tokens = max_tokens;
  for (int step = 0; step < max_tokens; ++step) {
    if (time_finishing && step % 4 == 0) {
      const auto t0 = std::chrono::steady_clock::now();
      m.fill_finishing_mask(mask);
      w.finishing_us.push_back(micros_since(t0));
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (budget_slack >= 0)
      m.fill_mask(mask, max_tokens - step);
    else
      m.fill_mask(mask);
    w.mask_us.push_back(micros_since(t0));
    allowed.clear();
    short_allowed.clear();
    int32_t eog = -1;
    for (int32_t id = 0; id < vocab->size(); ++id) {
      if (!((mask[id >> 5] >> (id & 31)) & 1u)) continue;
      if (vocab->is_eog(id)) {
        eog = id;
        continue;
      }
      allowed.push_back(id);
      if (vocab->token_bytes(id).size() <= 2) short_allowed.push_back(id);
    }
    if ((eog >= 0) != m.can_finish())
      return Status::error("grammar", "end-of-generation in the mask disagrees with can_finish()");
    if (eog >= 0 && (allowed.empty() || rng() % 2 == 0)) {
      if (!m.accept(eog)) return Status::error("grammar", "end-of-generation token rejected");
      w.finished = true;
      return w;
    }
    if (allowed.empty()) return Status::error("grammar", "empty mask before the grammar finished");
    const auto& pool = (!short_allowed.empty() && rng() % 2 == 0) ? short_allowed : allowed;
    const int32_t tok = pool[rng() % pool.size()];
    if (!m.accept(tok)) return Status::error("grammar", "a token from the mask was rejected");
    w.text += vocab->token_bytes(tok);
    ++w.tokens;
  }
  return w;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * (v.size() - 1) + 0.5))];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

int run_grammar(const GrammarOptions& o) {
  if (o.tokenizer.empty()) return fail("[grammar] --tokenizer PATH is required");
  if (o.schema.empty() == !o.json_object)
    return fail("[grammar] give --schema FILE or --json-object");
  structured::NodePtr root;
  if (o.json_object) {
    root = structured::any_json_object();
  } else {
    std::ifstream f(o.schema, std::ios::binary);
    if (!f) return fail("[grammar] cannot read schema file " + o.schema);
    std::stringstream ss;
    ss << f.rdbuf();
    auto schema = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
    if (schema.is_discarded()) return fail("[grammar] schema file " + o.schema + " is not JSON");
    auto node = structured::json_schema(schema);
    if (!node) return fail(node.error());
    root = *node;
  }
  auto tok = load_tokenizer_for(o.tokenizer);
  if (!tok) return fail(tok.error());
  const auto t0 = std::chrono::steady_clock::now();
  auto grammar = structured::compile(root);
  if (!grammar) return fail(grammar.error());
  const auto t1 = std::chrono::steady_clock::now();
  auto vocab = structured::TokenVocab::build(**tok);
  const auto t2 = std::chrono::steady_clock::now();
  std::mt19937_64 rng(o.seed);
  if (o.bench) {
    std::vector<double> cold, warm, finishing;
    int finished = 0, tokens = 0;
    for (int i = 0; i < o.bench_walks; ++i) {
      auto w = walk(*grammar, vocab, rng, o.max_tokens, o.budget_slack, i > 0);
      if (!w) return fail(w.error());
      finished += w->finished;
      tokens += w->tokens;
      auto& dst = i == 0 ? cold : warm;
      dst.insert(dst.end(), w->mask_us.begin(), w->mask_us.end());
      finishing.insert(finishing.end(), w->finishing_us.begin(), w->finishing_us.end());
    }
    nlohmann::ordered_json out = {
        {"vocab_size", vocab->size()},
        {"compile_ms", std::chrono::duration<double, std::milli>(t1 - t0).count()},
        {"vocab_build_ms", std::chrono::duration<double, std::milli>(t2 - t1).count()},
        {"walks", o.bench_walks},
        {"finished", finished},
        {"tokens", tokens},
        {"cold_mean_us", mean(cold)},
        {"cold_max_us", percentile(cold, 1.0)},
        {"mean_us", mean(warm)},
        {"p50_us", percentile(warm, 0.5)},
        {"p99_us", percentile(warm, 0.99)},
        {"max_us", percentile(warm, 1.0)},
        {"masks_timed", warm.size()},
        {"finishing_mean_us", mean(finishing)},
        {"finishing_p50_us", percentile(finishing, 0.5)},
        {"finishing_max_us", percentile(finishing, 1.0)},
        {"finishing_timed", finishing.size()}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  int unfinished = 0;
  for (int i = 0; i < o.random_walk; ++i) {
    auto w = walk(*grammar, vocab, rng, o.max_tokens, o.budget_slack, false);
    if (!w) return fail(w.error());
    if (!w->finished && o.budget_slack >= 0)
      return fail("[grammar] a walk with a budget of " + std::to_string(w->max_tokens) +
                  " tokens ended unfinished: " + w->text);
    if (!w->finished) {
      ++unfinished;
      continue;
    }
    nlohmann::ordered_json line = {{"text", w->text}, {"tokens", w->tokens}};
    std::printf("%s\n",
                line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  std::fprintf(stderr, "grammar: %d walks, %d unfinished after %d tokens\n", o.random_walk,
               unfinished, o.max_tokens);
  return 0;
}

}  // namespace

Command register_grammar_command(CLI::App& app) {
  auto o = std::make_shared<GrammarOptions>();
  CLI::App* cmd =
      app.add_subcommand("grammar", "Constrained-decoding grammar: random walks, bench");
  cmd->add_option("--schema", o->schema, "JSON Schema file");
  cmd->add_flag("--json-object", o->json_object, "JSON mode: any JSON object");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json, GGUF file or model directory");
  cmd->add_option("--random-walk", o->random_walk, "Number of random walks to print");
  cmd->add_option("--seed", o->seed, "Random seed");
  cmd->add_option("--max-tokens", o->max_tokens, "Token limit per walk");
  cmd->add_option("--budget", o->budget_slack,
                  "Steer to completion: limit each walk to the fewest tokens that can finish "
                  "+ 1 + this slack (replaces --max-tokens); an unfinished walk is an error");
  cmd->add_flag("--bench", o->bench, "Time fill_mask per token over a few walks (JSON)");
  cmd->add_option("--bench-walks", o->bench_walks, "Walks for --bench (first one counts as cold)");
  return {cmd, [o] { return run_grammar(*o); }};
}

}  // namespace sluice
