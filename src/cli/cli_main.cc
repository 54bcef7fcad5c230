#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "cli/template_command.h"

namespace sluice {

int fail(const std::string& message) {
  std::fprintf(stderr, "sluice: error: %s\n", message.c_str());
  return 1;
}

int cli_main(int argc, char** argv) {
  CLI::App app{"sluice: an LLM inference server (CPU by default)", "sluice"};
  app.require_subcommand(1);
  const Command commands[] = {register_run_command(app),         register_tokenize_command(app),
                              register_logits_command(app),      register_make_model_command(app),
                              register_template_command(app),    register_serve_command(app),
                              register_convert_command(app),     register_grammar_command(app),
                              register_embed_command(app),       register_rerank_command(app),
                              register_vision_embed_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const Command& c : commands)
    if (c.app->parsed()) return c.run();
  return 0;
}

}  // namespace sluice
