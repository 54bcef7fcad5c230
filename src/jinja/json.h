#pragma once
// JSON in and out of the interpreter: nlohmann::ordered_json (key order kept) -> Value, and
// Python's json.dumps formatting for the `tojson` filter as Hugging Face binds it.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "jinja/value.h"

namespace sluice::jinja {

Value from_json(const nlohmann::ordered_json& j);
// Keys of nlohmann::json are sorted (std::map); prefer ordered_json where order matters.
Value from_json(const nlohmann::json& j);

struct JsonDumpOptions {
  bool ensure_ascii = false;          // HF's tojson default
  std::optional<std::string> indent;  // None: compact; "    " for indent=4
  std::string item_separator = ", ";  // "," when indent is set (Python's default)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// json.dumps(value, ...); throws TemplateError("TypeError") for values JSON cannot hold.
std::string json_dumps(const Value& v, const JsonDumpOptions& opts);

}  // namespace sluice::jinja
