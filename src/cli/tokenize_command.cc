// `sluice tokenize`: UTF-8 text on stdin -> token ids on one line; or, with --jsonl, one JSON
// string per line -> one {"ids": [...], "decoded": "..."} per line (one load for many texts).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace {

struct TokenizeOptions {
  std::string model;
  bool add_special = false;
  bool parse_special = false;
  bool jsonl = false;
};

int tokenize_jsonl(const Tokenizer& tok, const TokenizeOptions& o) {
  size_t n = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++n;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_string()) {
      return fail("[tokenize] line " + std::to_string(n) + ": not a JSON string");
    }
    const auto ids =
        tok.encode(j.get<std::string>(), EncodeOptions{o.add_special, o.parse_special});
    nlohmann::json out = {{"ids", ids}, {"decoded", tok.decode(ids, /*skip_special=*/false)}};
    std::string s = out.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
  return 0;
}

int tokenize(const TokenizeOptions& o) {
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto tok = load_tokenizer_for(*path);
  if (!tok) return fail(tok.error());
  if (o.jsonl) return tokenize_jsonl(**tok, o);
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const auto ids = (*tok)->encode(text, EncodeOptions{o.add_special, o.parse_special});
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

}  // namespace

Command register_tokenize_command(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of stdin's text");
  cmd->add_option("-m,--model", opts->model, "GGUF file, model directory or tokenizer.json");
  cmd->add_flag("--add-special", opts->add_special, "Add BOS/EOS as the tokenizer specifies");
  cmd->add_flag("--parse-special", opts->parse_special,
                "Match special-token text as special tokens");
  cmd->add_flag("--jsonl", opts->jsonl,
                "Each stdin line is a JSON string; print {\"ids\", \"decoded\"} per line");
  return {cmd, [opts] { return tokenize(*opts); }};
}

}  // namespace sluice
