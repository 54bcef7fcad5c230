#pragma once
// SLUICE_ASSERT: invariants only (programming errors). Aborts with file:line and a message.
#include <cstdio>
#include <cstdlib>

#define SLUICE_ASSERT(cond, msg)                                                               \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "sluice: assertion failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, msg);                                                                \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
