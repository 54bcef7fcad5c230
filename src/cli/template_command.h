#pragma once
// `sluice template -m MODEL_OR_TEMPLATE --messages FILE.json [--tools FILE.json]
//  [--add-generation-prompt] [--kwargs JSON]`: prints the rendered chat prompt exactly.
namespace CLI {
class App;
}

namespace sluice {

struct Command;

// argv[0] is "template". Returns the exit code (1 with one "sluice: error: ..." line on failure).
int template_command(int argc, char** argv);
// The same command registered on the `sluice` CLI11 app.
Command register_template_command(CLI::App& app);

}  // namespace sluice
