#include "common/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice {

Result<nlohmann::json> read_json_object(const std::string& path, const std::string& domain,
                                        const std::string& where) {
  const std::string name = std::filesystem::path(path).filename().string();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::error(domain, where + ": cannot read " + name);
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::error(domain, where + ": " + name + " is not a JSON object");
  return j;
}

}  // namespace sluice
