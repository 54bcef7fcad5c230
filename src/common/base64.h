#pragma once
// Base64 (RFC 4648, padded), through OpenSSL's block codec.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::base64 {

std::string encode(std::string_view bytes);
// The bytes that padded base64 text stands for, or nothing when the text is not base64.
std::optional<std::string> decode(std::string_view text);

}  // namespace sluice::base64
