// `sluice embed MODEL_DIR`: one JSON value per stdin line (a string to tokenize, or a list of
// token ids used as given) -> one JSON list of floats per line, the sentence embedding, without
// the server. --batch N runs N lines per forward (default 1).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/encoder_model.h"
#include "model/encoder_runner.h"
#include "tokenizer/encoder_input.h"

namespace sluice {

namespace {

struct EmbedOptions {
  std::string model;
  int batch = 1;
  int threads = 0;
  std::string device = "cpu";
  bool deterministic = false;
};

int run_batch(EncoderRunner& runner, std::vector<EncoderSequence>& batch) {
  if (batch.empty()) return 0;
  std::vector<const EncoderSequence*> seqs;
  for (const EncoderSequence& s : batch) seqs.push_back(&s);
  const std::vector<float> out = runner.embed(seqs);
  const size_t hidden = out.size() / batch.size();
  for (size_t i = 0; i < batch.size(); ++i) {
    const nlohmann::json v(
        std::vector<float>(out.begin() + i * hidden, out.begin() + (i + 1) * hidden));
    const std::string line = v.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  batch.clear();
  return 0;
}

int embed(const EmbedOptions& o) {
  auto model = EncoderModel::load(o.model);
  if (!model) return fail(model.error());
  const EncoderConfig& c = (*model)->config();
  if (c.head == EncoderHead::kClassifier)
    return fail("[embed] " + o.model +
                " is a cross-encoder (it scores query/document pairs): serve it with "
                "`sluice serve --task rerank` and POST /v1/rerank");
  auto backend = make_backend(o.device, o.threads);
  if (!backend) return fail(backend.error());
  if (o.deterministic && !(*backend)->set_batch_invariant(true))
    return fail("--deterministic: the " + (*backend)->name() +
                " backend has no batch-invariant kernels");
  EncoderRunner runner(**model, **backend);
  std::vector<EncoderSequence> batch;
  size_t n = 0;
  for (std::string line; std::getline(std::cin, line);) {
    const std::string where = "[embed] line " + std::to_string(++n) + ": ";
    auto j = nlohmann::json::parse(line, nullptr, false);
    EncoderSequence seq;
    if (j.is_string()) {
      auto e = encode_for_encoder((*model)->tokenizer(), j.get<std::string>(), nullptr, {});
      if (!e) return fail(where + e.error());
      seq.ids = std::move(e->ids);
      seq.type_ids = std::move(e->type_ids);
    } else if (j.is_array()) {
      for (const auto& v : j) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= c.vocab_size)
          return fail(where + "not a token id below " + std::to_string(c.vocab_size) + ": " +
                      v.dump());
        seq.ids.push_back(v.get<int32_t>());
      }
    } else {
      return fail(where + "not a JSON string or list of token ids");
    }
    if (seq.ids.empty() || static_cast<int64_t>(seq.ids.size()) > c.max_tokens)
      return fail(where + std::to_string(seq.ids.size()) + " tokens (the model takes 1 to " +
                  std::to_string(c.max_tokens) + ")");
    batch.push_back(std::move(seq));
    if (static_cast<int>(batch.size()) >= o.batch) run_batch(runner, batch);
  }
  return run_batch(runner, batch);
}

}  // namespace

Command register_embed_command(CLI::App& app) {
  auto opts = std::make_shared<EmbedOptions>();
  CLI::App* cmd = app.add_subcommand("embed", "Print the embedding of each stdin line (JSON)");
  cmd->add_option("model", opts->model, "Encoder model directory (BERT family)")->required();
  cmd->add_option("--batch", opts->batch, "Lines per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  cmd->add_option("--device", opts->device, "cpu, cuda or auto")->capture_default_str();
  cmd->add_flag("--deterministic", opts->deterministic,
                "Batch-invariant kernels: a line's vector does not depend on --batch");
  return {cmd, [opts] { return embed(*opts); }};
}

}  // namespace sluice
