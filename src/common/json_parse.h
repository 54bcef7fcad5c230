#pragma once
// Large JSON texts (request bodies carrying pictures as base64) parsed by simdjson and built as
// nlohmann values: nlohmann's lexer appends a string's characters one at a time (~10 ms per MB).
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace sluice {

// The value of `text`, or nullopt for anything simdjson refuses (invalid JSON, or numbers it
// does not hold, such as integers beyond 64 bits): parse those with nlohmann for its message.
// Numbers come as nlohmann's parser makes them: unsigned when >= 0, else signed or float.
std::optional<nlohmann::ordered_json> parse_json_simd(std::string_view text);

}  // namespace sluice
