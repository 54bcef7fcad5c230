// `sluice run`: generate text through the engine. One prompt (-p): the text streams to stdout,
// speeds go to stderr. Many prompts (--prompts FILE, one per line): up to --concurrency requests
// in flight; one JSON line per completion on stdout, aggregate throughput on stderr.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/chat_prompt.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/engine_flags.h"
#include "engine/engine.h"
#include "model/model.h"

namespace sluice {

namespace {

struct RunOptions {
  std::string model, prompt, prompts_file;
  int n_predict = 64;
  float temp = 0.8f;
  float top_p = 1.0f, min_p = 0.0f;
  int top_k = 0;
  int64_t seed = -1;
  bool chat = false, ignore_eos = false;
  int concurrency = 1;
  EngineFlags engine;
};

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void write_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

Result<std::vector<int32_t>> prompt_tokens(const Model& model, const RunOptions& o,
                                           const std::string& text) {
  const Tokenizer& tok = model.tokenizer();
  std::vector<int32_t> ids;
  if (o.chat) {
    SLUICE_ASSIGN_OR_RETURN(std::string rendered, render_chat_prompt(model, text));
    ids = tok.encode(rendered, EncodeOptions{.add_special = false, .parse_special = true});
  } else {
    ids = tok.encode(text, EncodeOptions{.add_special = true, .parse_special = false});
  }
  if (ids.empty()) return Status::error("run", "a prompt is empty after tokenization");
  return ids;
}

SamplingParams sampling_params(const RunOptions& o, int index) {
  SamplingParams p;
  p.temperature = o.temp;
  p.top_p = o.top_p;
  p.top_k = o.top_k;
  p.min_p = o.min_p;
  p.max_tokens = o.n_predict;
  p.ignore_eos = o.ignore_eos;
  if (o.seed >= 0) p.seed = static_cast<uint64_t>(o.seed) + index;
  return p;
}

int run_one(Engine& engine, const Model& model, const RunOptions& o, double load_s) {
  auto ids = prompt_tokens(model, o, o.prompt);
  if (!ids) return fail(ids.error());
  EngineRequest req;
  req.id = "run-0";
  req.prompt = *ids;
  req.params = sampling_params(o, 0);
  auto stream = engine.submit(std::move(req));
  if (!stream) return fail(stream.error());
  RequestStats st;
  for (;;) {
    RequestOutput out = *(*stream)->next();
    for (const SequenceDelta& d : out.deltas) write_out(d.text);
    if (out.finished) {
      if (!out.error.empty()) return fail(out.error);
      st = out.stats;
      break;
    }
  }
  const double prompt_s = seconds(st.first_token - st.arrival);
  const double gen_s = seconds(st.finished - st.first_token);
  const int decode_steps = st.num_output_tokens - 1;
  std::fprintf(stderr,
               "\nprompt: %d tokens, %.1f tok/s; generation: %d tokens, %.1f tok/s; load: %.2f s\n",
               st.num_prompt_tokens, st.num_prompt_tokens / prompt_s, st.num_output_tokens,
               decode_steps > 0 && gen_s > 0 ? decode_steps / gen_s : 0.0, load_s);
  return 0;
}

int run_many(Engine& engine, const Model& model, const RunOptions& o) {
  std::ifstream in(o.prompts_file);
  if (!in) return fail("[run] cannot read --prompts file " + o.prompts_file);
  std::vector<std::vector<int32_t>> prompts;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto ids = prompt_tokens(model, o, line);
    if (!ids) return fail(ids.error());
    prompts.push_back(std::move(*ids));
  }
  if (prompts.empty()) return fail("[run] --prompts file has no prompts");
  if (o.concurrency < 1) return fail("[run] --concurrency must be >= 1");

  struct InFlight {
    size_t index;
    std::shared_ptr<RequestStream> stream;
    std::string text;
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<InFlight> live;
  size_t next = 0, done = 0;
  int64_t total_out = 0;
  std::vector<nlohmann::ordered_json> results(prompts.size());
  while (done < prompts.size()) {
    while (live.size() < static_cast<size_t>(o.concurrency) && next < prompts.size()) {
      EngineRequest req;
      req.id = "run-" + std::to_string(next);
      req.prompt = prompts[next];
      req.params = sampling_params(o, static_cast<int>(next));
      auto stream = engine.submit(std::move(req));
      if (!stream) return fail(stream.error());
      live.push_back({next++, *stream, {}});
    }
    // Wait (briefly) on the oldest stream, then take whatever the others have: the engine
    // pushes to every running request each step.
    for (size_t i = 0; i < live.size();) {
      InFlight& f = live[i];
      bool finished = false;
      const auto wait = std::chrono::milliseconds(i == 0 ? 50 : 0);
      while (auto out = f.stream->next(std::chrono::steady_clock::now() + wait)) {
        for (const SequenceDelta& d : out->deltas) f.text += d.text;
        if (!out->finished) continue;
        if (!out->error.empty()) return fail(out->error);
        const RequestStats& st = out->stats;
        const SequenceDelta* last = out->deltas.empty() ? nullptr : &out->deltas.back();
        results[f.index] = {
            {"index", f.index},
            {"text", f.text},
            {"prompt_tokens", st.num_prompt_tokens},
            {"cached_tokens", st.num_cached_tokens},
            {"computed_tokens", st.num_computed_tokens},
            {"output_tokens", st.num_output_tokens},
            {"preemptions", st.num_preemptions},
            {"finish_reason",
             last && last->finish_reason ? finish_reason_name(*last->finish_reason) : "stop"},
            {"ttft_s", seconds(st.first_token - st.arrival)},
            {"e2e_s", seconds(st.finished - st.arrival)}};
        total_out += st.num_output_tokens;
        finished = true;
        break;
      }
      if (finished) {
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        ++done;
      } else {
        ++i;
      }
    }
  }
  const double wall = seconds(std::chrono::steady_clock::now() - t0);
  for (const auto& r : results) write_out(r.dump() + "\n");
  std::fprintf(
      stderr, "requests: %zu, concurrency: %d, output tokens: %lld, wall: %.2f s, %.1f tok/s\n",
      prompts.size(), o.concurrency, static_cast<long long>(total_out), wall, total_out / wall);
  return 0;
}

int run(RunOptions& o) {
  if (o.prompt.empty() == o.prompts_file.empty())
    return fail("[run] give exactly one of -p PROMPT or --prompts FILE");
  if (o.n_predict < 1) return fail("[run] -n must be >= 1");
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto config = engine_config_from(o.engine);
  if (!config) return fail(config.error());
  const auto t_load = std::chrono::steady_clock::now();
  // Loaded on a short-lived thread: its OpenMP pool (weight conversion is parallel) ends with it.
  // A second live pool beside the engine thread's would oversubscribe the cores, and libgomp then
  // puts idle workers to sleep at every barrier instead of spinning (decode got 2x slower).
  Result<std::unique_ptr<Model>> model = Status::error("run", "model not loaded");
  std::thread([&] { model = Model::load(*path, optional_dtypes_for(config->device)); }).join();
  if (!model) return fail(model.error());
  const double load_s = seconds(std::chrono::steady_clock::now() - t_load);
  auto engine = Engine::create(**model, *config);
  if (!engine) return fail(engine.error());
  return o.prompts_file.empty() ? run_one(**engine, **model, o, load_s)
                                : run_many(**engine, **model, o);
}

}  // namespace

Command register_run_command(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text for a prompt (or a file of prompts)");
  cmd->add_option("-m,--model", opts->model, "GGUF file or model directory (default: built-in)");
  cmd->add_option("-p,--prompt", opts->prompt, "Prompt text");
  cmd->add_option("--prompts", opts->prompts_file, "File of prompts, one per line");
  cmd->add_option("--concurrency", opts->concurrency, "Requests in flight with --prompts")
      ->capture_default_str();
  cmd->add_option("-n,--n-predict", opts->n_predict, "Max tokens to generate per prompt")
      ->capture_default_str();
  cmd->add_option("--temp", opts->temp, "Sampling temperature; 0 is greedy")->capture_default_str();
  cmd->add_option("--top-k", opts->top_k, "Top-k sampling (0: off)");
  cmd->add_option("--top-p", opts->top_p, "Nucleus sampling mass");
  cmd->add_option("--min-p", opts->min_p, "Min-p sampling");
  cmd->add_option("--seed", opts->seed, "RNG seed (default: random); prompt i uses seed + i");
  cmd->add_flag("--ignore-eos", opts->ignore_eos, "Generate all -n tokens");
  cmd->add_flag("--chat", opts->chat, "Wrap the prompt as a user message with the chat template");
  add_engine_flags(*cmd, opts->engine);
  return {cmd, [opts] { return run(*opts); }};
}

}  // namespace sluice
