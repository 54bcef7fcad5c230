#pragma once
// Subcommands of the `sluice` binary.
namespace sluice {
int cli_main(int argc, char** argv);
}
