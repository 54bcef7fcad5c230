// `sluice run`: generate text for one prompt. Text on stdout; speeds on stderr.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/sampling.h"
#include "cli/single_sequence.h"
#include "model/model.h"

namespace sluice {

namespace {

struct RunOptions {
  std::string model, prompt;
  int n_predict = 64;
  float temp = 0.8f;
  int64_t seed = -1;
  bool chat = false;
  int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const RunOptions& o) {
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  const auto t_load = std::chrono::steady_clock::now();
  auto model = Model::load(*path);
  if (!model) return fail(model.error());
  const double load_s = seconds_since(t_load);
  const Tokenizer& tok = (*model)->tokenizer();

  std::vector<int32_t> prompt;
  if (o.chat) {
    auto rendered = render_chat_prompt(**model, o.prompt);
    if (!rendered) return fail(rendered.error());
    prompt = tok.encode(*rendered, EncodeOptions{.add_special = false, .parse_special = true});
  } else {
    prompt = tok.encode(o.prompt, EncodeOptions{.add_special = true, .parse_special = false});
  }
  if (prompt.empty()) return fail("[run] the prompt is empty after tokenization");
  if (o.n_predict < 0) return fail("[run] -n must be >= 0");
  if (!(o.temp >= 0.0f)) return fail("[run] --temp must be >= 0");

  auto backend = make_cpu_backend(o.threads);
  SingleSequence seq(**model, *backend, static_cast<int64_t>(prompt.size()) + o.n_predict + 1);
  const uint64_t seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();
  Sampler sampler(o.temp, seed);
  const auto eog = tok.eog_ids();
  StreamingDetokenizer detok(tok);

  const auto t_prompt = std::chrono::steady_clock::now();
  const std::vector<float>* logits = &seq.feed(prompt);
  const double prompt_s = seconds_since(t_prompt);

  const auto t_gen = std::chrono::steady_clock::now();
  int generated = 0;
  for (; generated < o.n_predict; ++generated) {
    const int32_t id = sampler.sample(*logits);
    if (std::find(eog.begin(), eog.end(), id) != eog.end()) break;
    const std::string text = detok.push(id);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (generated + 1 < o.n_predict) logits = &seq.feed({id});
  }
  const std::string rest = detok.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fflush(stdout);
  const double gen_s = seconds_since(t_gen);
  std::fprintf(stderr,
               "\nprompt: %zu tokens, %.1f tok/s; generation: %d tokens, %.1f tok/s; load: %.2f s\n",
               prompt.size(), prompt.size() / prompt_s, generated,
               generated > 0 ? generated / gen_s : 0.0, load_s);
  return 0;
}

}  // namespace

Command register_run_command(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text for one prompt");
  cmd->add_option("-m,--model", opts->model, "GGUF file or model directory (default: built-in)");
  cmd->add_option("-p,--prompt", opts->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", opts->n_predict, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temp", opts->temp, "Sampling temperature; 0 is greedy")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "RNG seed (default: random)");
  cmd->add_flag("--chat", opts->chat, "Wrap the prompt as a user message with the chat template");
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  return {cmd, [opts] { return run(*opts); }};
}

}  // namespace sluice
