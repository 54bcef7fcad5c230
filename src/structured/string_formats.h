#pragma once
// JSON Schema `format` values as anchored regexes over the decoded string. Conservative where
// exactness would cost a lot: date allows February 1-28 only and no year 0000; time needs an
// offset (RFC 3339) and has no leap second; email/uri/hostname use safe ASCII subsets.
#include <optional>
#include <string>

namespace sluice::structured {

// The regex for a format, or nullopt when the format is not supported.
std::optional<std::string> format_regex(const std::string& format);

}  // namespace sluice::structured
