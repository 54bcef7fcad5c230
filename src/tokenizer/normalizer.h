#pragma once
// Normalizers of tokenizer.json (NFC/NFKC/NFD/NFKD, Lowercase, Prepend, Replace, Strip, Sequence),
// applied in order to each text segment before pre-tokenization.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenizer/regex.h"

namespace sluice {

class Normalizer {
 public:
  struct Step {
    enum Kind { kNfc, kNfkc, kNfd, kNfkd, kLowercase, kPrepend, kReplace, kStrip } kind;
    std::string a;                       // Prepend: prefix; Replace: literal pattern
    std::string b;                       // Replace: replacement
    std::shared_ptr<const Regex> regex;  // Replace with a Regex pattern
    bool strip_left = false, strip_right = false;
  };

  // null -> empty normalizer. Unknown types are an error.
  static Result<Normalizer> from_json(const nlohmann::json& j);
  void add(Step step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }
  std::string apply(std::string_view text) const;

 private:
  Status parse_into(const nlohmann::json& j);
  std::vector<Step> steps_;
};

// Unicode normalization forms (utf8proc). Input must be valid UTF-8.
std::string unicode_normalize(std::string_view text, Normalizer::Step::Kind form);
// Replaces every occurrence of from with to.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

}  // namespace sluice
