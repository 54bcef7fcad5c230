#include "structured/string_formats.h"

#include <map>

namespace sluice::structured {

namespace {

const std::string kDate =
    R"([1-9]\d{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8])))";
const std::string kTime =
    R"((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))";
const std::string kLabel = R"([A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?)";
const std::string kAtom = R"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)";
const std::string kOctet = R"((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))";
const std::string kUriChar = R"((?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2}))";

}  // namespace

std::optional<std::string> format_regex(const std::string& format) {
  static const std::map<std::string, std::string> formats = {
      {"date", "^" + kDate + "$"},
      {"time", "^" + kTime + "$"},
      {"date-time", "^" + kDate + "T" + kTime + "$"},
      {"email", "^" + kAtom + R"((?:\.)" + kAtom + ")*@" + kLabel + R"((?:\.)" + kLabel + ")+$"},
      {"uuid", R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"},
      {"ipv4", "^" + kOctet + R"((?:\.)" + kOctet + "){3}$"},
      {"uri", "^[A-Za-z][A-Za-z0-9+.-]*:" + kUriChar + "*(?:#" + kUriChar + "*)?$"},
      {"hostname", "^" + kLabel + R"((?:\.)" + kLabel + ")*$"},
  };
  auto it = formats.find(format);
  if (it == formats.end()) return std::nullopt;
  return it->second;
}

}  // namespace sluice::structured
