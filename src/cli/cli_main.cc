#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/serve_profiles.h"
#include "cli/template_command.h"

namespace sluice {

int fail(const std::string& message) {
  std::fprintf(stderr, "sluice: error: %s\n", message.c_str());
  return 1;
}

int cli_main(int argc, char** argv) {
  CLI::App app{"sluice: an LLM inference server (CPU by default)", "sluice"};
  app.require_subcommand(1);
  const Command commands[] = {
      register_run_command(app),          register_tokenize_command(app),
      register_logits_command(app),       register_make_model_command(app),
      register_template_command(app),     register_serve_command(app),
      register_convert_command(app),      register_grammar_command(app),
      register_embed_command(app),        register_rerank_command(app),
      register_vision_embed_command(app), register_make_vision_dir_command(app)};
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "serve") {  // --profile NAME: its flags join the command line
    auto expanded = apply_serve_profile(args);
    if (!expanded) return fail(expanded.error());
    args = std::move(*expanded);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector last argument first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const Command& c : commands)
    if (c.app->parsed()) return c.run();
  return 0;
}

}  // namespace sluice
