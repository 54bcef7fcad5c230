#pragma once
#include <functional>
#include <string>
// Subcommands of the `sluice` binary. Each registers its options on the CLI11 app.
namespace CLI {
class App;
}

namespace sluice {

int cli_main(int argc, char** argv);

// A registered subcommand: its CLI11 node and what runs when it was chosen (returns exit code).
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command register_run_command(CLI::App& app);
Command register_tokenize_command(CLI::App& app);
Command register_logits_command(CLI::App& app);
Command register_make_model_command(CLI::App& app);
Command register_convert_command(CLI::App& app);
Command register_serve_command(CLI::App& app);
Command register_grammar_command(CLI::App& app);
Command register_embed_command(CLI::App& app);
Command register_rerank_command(CLI::App& app);
Command register_vision_embed_command(CLI::App& app);
Command register_make_vision_dir_command(CLI::App& app);

// Prints "sluice: error: <message>" on one line and returns exit code 1.
int fail(const std::string& message);

}  // namespace sluice
