// `sluice rerank -m MODEL --query Q`: scores each stdin line (a JSON string: a document) against
// the query on a decoder reranker (Qwen3-Reranker style, api/decoder_rerank.h), all lines in one
// batch through the engine; prints one JSON object per line: {"score": P(yes), "tokens": n}.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/decoder_rerank.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/engine_flags.h"

namespace sluice {

namespace {

struct RerankOptions {
  std::string model, query;
  std::string instruction = std::string(api::kDefaultRerankInstruction);
  EngineFlags engine;
};

int rerank(RerankOptions& o) {
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto config = engine_config_from(o.engine);
  if (!config) return fail(config.error());
  std::vector<std::string> documents;
  for (std::string line; std::getline(std::cin, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_string())
      return fail("[rerank] line " + std::to_string(documents.size() + 1) + ": not a JSON string");
    documents.push_back(j.get<std::string>());
  }
  auto model = Model::load(*path, optional_dtypes_for(config->device));
  if (!model) return fail(model.error());
  auto engine = Engine::create(**model, *config);
  if (!engine) return fail(engine.error());
  const Tokenizer& tok = (*model)->tokenizer();
  try {
    const api::DecoderRerankScores r =
        api::decoder_rerank_scores(**engine, tok, o.query, documents, o.instruction);
    for (size_t i = 0; i < r.scores.size(); ++i) {
      const std::string line =
          nlohmann::json{{"score", r.scores[i]}, {"tokens", r.num_tokens[i]}}.dump() + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  } catch (const api::ApiError& e) {
    return fail(std::string("[rerank] ") + e.what());
  }
  return 0;
}

}  // namespace

Command register_rerank_command(CLI::App& app) {
  auto o = std::make_shared<RerankOptions>();
  CLI::App* cmd = app.add_subcommand(
      "rerank", "Score stdin documents (JSON strings) against a query on a decoder reranker");
  cmd->add_option("-m,--model", o->model, "Model (.gguf or directory)")->required();
  cmd->add_option("--query", o->query, "The query")->required();
  cmd->add_option("--instruction", o->instruction, "The <Instruct> line")->capture_default_str();
  add_engine_flags(*cmd, o->engine);
  return {cmd, [o] { return rerank(*o); }};
}

}  // namespace sluice
