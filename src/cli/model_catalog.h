#pragma once
// The models `sluice serve` offers, from its flags: `--model PATH` (one model, named by its file
// or --served-model-name), `--model NAME=PATH` (repeatable), and `--models-dir DIR` (every GGUF
// file and model directory in DIR, named by file stem / folder name, with a sibling mmproj
// attached). No flag: the built-in default model.
#include <string>
#include <vector>

#include "api/model_registry.h"
#include "common/status.h"

namespace sluice {

struct CatalogFlags {
  std::vector<std::string> models;  // --model: PATH or NAME=PATH
  std::string models_dir;           // --models-dir
  std::string served_model_name;    // --served-model-name: the id of a lone model
  std::string mmproj;               // --mmproj: the projector of a lone model
};

Result<std::vector<api::ModelSpec>> model_catalog(const CatalogFlags& flags);

// The models of one directory, sorted by id (see the header comment for what counts).
Result<std::vector<api::ModelSpec>> scan_models_dir(const std::string& dir);

// "SmolLM2-135M-Instruct.Q4_1.gguf" -> "SmolLM2-135M-Instruct.Q4_1"; a directory -> its name.
std::string default_model_id(const std::string& path);

}  // namespace sluice
