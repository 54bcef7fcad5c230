#pragma once
// Typed fields of a JSON request body, one set for every protocol: a field of the wrong type is a
// 400 naming it, phrased as the protocol's own API phrases it ("n must be an integer" for OpenAI,
// "max_tokens: must be an integer" for Anthropic).
#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/api_error.h"

namespace sluice::api {

using Json = nlohmann::ordered_json;

// The object's field, or nullptr when it is absent or null (an explicit null reads as absent).
const Json* json_field(const Json& object, const char* name);

// A 400 naming the field: "<name> <what>" (OpenAI) or "<name>: <what>" (Anthropic).
ApiError field_error(const std::string& name, const std::string& what,
                     Protocol protocol = Protocol::kOpenAI);

bool json_bool(const Json& v, const std::string& name, Protocol protocol = Protocol::kOpenAI);
const std::string& json_string(const Json& v, const std::string& name,
                               Protocol protocol = Protocol::kOpenAI);
double json_number(const Json& v, const std::string& name, Protocol protocol = Protocol::kOpenAI);
float json_float(const Json& v, const std::string& name, Protocol protocol = Protocol::kOpenAI);
// An integer; one beyond the type's range is a 400.
int64_t json_int(const Json& v, const std::string& name, Protocol protocol = Protocol::kOpenAI);
int32_t json_int32(const Json& v, const std::string& name, Protocol protocol = Protocol::kOpenAI);
// An integer of any size, clamped into int32's range (a huge limit reads as "no limit").
int32_t json_int32_clamped(const Json& v, const std::string& name,
                           Protocol protocol = Protocol::kOpenAI);

// Whether `key` is one of the field names in `names`.
template <size_t N>
bool listed(const char* const (&names)[N], const std::string& key) {
  for (const char* n : names)
    if (key == n) return true;
  return false;
}

// Serializes without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const Json& j);
// Untrusted JSON text parsed within common/json_shape.h's limits; discarded when it does not
// parse or goes past them.
Json parse_json_or_discarded(std::string_view text);

}  // namespace sluice::api
