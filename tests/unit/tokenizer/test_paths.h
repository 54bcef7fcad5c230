#pragma once
// Where the tokenizer tests find their data.
#include <cstdlib>
#include <string>

namespace sluice::testing {

// The shared test data folder: $SLUICE_TESTDATA, else <source>/../shared/testdata.
inline std::string testdata_dir() {
  if (const char* env = std::getenv("SLUICE_TESTDATA")) return env;
  return std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
}

}  // namespace sluice::testing
