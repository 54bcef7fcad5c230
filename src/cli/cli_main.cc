#include <cstdio>

#include "cli/commands.h"

namespace sluice {
int cli_main(int argc, char** argv) {
  std::fprintf(stderr, "sluice: no subcommands yet\n");
  return 2;
}
}  // namespace sluice
