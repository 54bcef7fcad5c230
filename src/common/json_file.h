#pragma once
// A JSON object read from a file (a checkpoint's config.json, its safetensors index).
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace sluice {

// Errors: `[domain] where: cannot read NAME` or `[domain] where: NAME is not a JSON object`
// (NAME: the file's name without its directory).
Result<nlohmann::json> read_json_object(const std::string& path, const std::string& domain,
                                        const std::string& where);

}  // namespace sluice
