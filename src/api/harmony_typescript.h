#pragma once
// A function's JSON Schema parameters as the TypeScript-like type harmony (gpt-oss) prompts show,
// written exactly as openai-harmony renders them (goldens: tests/reference/harmony):
//   {type: object, properties: {city: {type: string, description: "The city"}}, required: [city]}
//   -> "{\n// The city\ncity: string,\n}"
// Objects list their properties (descriptions, titles, examples and defaults as comments; "?" for
// optional ones), strings with an enum are a union of literals, oneOf a union of its variants,
// arrays "T[]"; what it does not describe reads "any".
#include <string>

#include "api/json_fields.h"

namespace sluice::api {

// `indent` prefixes each line of nested objects ("" at the top).
std::string harmony_typescript(const Json& schema, const std::string& indent = "");

}  // namespace sluice::api
