// `sluice logits`: run exactly the given token ids; write the last position's logits as raw
// little-endian float32 [vocab] (for comparisons against reference implementations).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/single_sequence.h"
#include "engine/engine_config.h"
#include "model/model.h"

namespace sluice {

namespace {

struct LogitsOptions {
  std::string model, tokens, out;
  int threads = 0;
  std::string device = "cpu";
  std::string kv_cache_dtype = "auto";
  bool cpu_int8_activations = false;
};

int logits(const LogitsOptions& o) {
  std::vector<int32_t> ids;
  std::istringstream in(o.tokens);
  std::string word;
  while (in >> word) {
    try {
      size_t used = 0;
      const long v = std::stol(word, &used);
      if (used != word.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(word);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return fail("[logits] not a token id: '" + word + "'");
    }
  }
  if (ids.empty()) return fail("[logits] --tokens is empty");
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto model = Model::load(*path);
  if (!model) return fail(model.error());
  for (int32_t id : ids)
    if (id >= (*model)->config().vocab_size)
      return fail("[logits] token id " + std::to_string(id) + " is outside the vocabulary");
  auto backend = make_backend(o.device, o.threads, o.cpu_int8_activations);
  if (!backend) return fail(backend.error());
  if (Status s = apply_kv_cache_dtype(o.kv_cache_dtype, **backend); !s) return fail(s.message());
  SingleSequence seq(**model, **backend, static_cast<int64_t>(ids.size()));
  const std::span<const float> out = seq.feed(ids);
  FILE* f = std::fopen(o.out.c_str(), "wb");
  if (!f) return fail("[logits] cannot write " + o.out);
  const size_t written = std::fwrite(out.data(), sizeof(float), out.size(), f);
  if (std::fclose(f) != 0 || written != out.size()) return fail("[logits] short write to " + o.out);
  return 0;
}

}  // namespace

Command register_logits_command(CLI::App& app) {
  auto opts = std::make_shared<LogitsOptions>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the last position's logits for token ids");
  cmd->add_option("-m,--model", opts->model, "GGUF file or model directory (default: built-in)");
  cmd->add_option("--tokens", opts->tokens, "Token ids separated by spaces")->required();
  cmd->add_option("-o,--out", opts->out, "Output file (raw float32)")->required();
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  cmd->add_option("--device", opts->device, "cpu, cuda or auto")->capture_default_str();
  cmd->add_option("--kv-cache-dtype", opts->kv_cache_dtype,
                  "KV-cache element type: auto (the backend's: f16), f16 or f32 (CPU: exact)")
      ->check(CLI::IsMember({"auto", "f32", "f16"}))
      ->capture_default_str();
  cmd->add_flag("--cpu-int8-activations", opts->cpu_int8_activations,
                "CPU: 4-bit and Q8G32 weights x int8 activations (see `serve --help`)");
  return {cmd, [opts] { return logits(*opts); }};
}

}  // namespace sluice
