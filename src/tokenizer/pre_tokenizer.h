#pragma once
// Pre-tokenizers: split normalized text into words before the model runs. Covers tokenizer.json's
// Split (regex or string, all HF behaviours), ByteLevel (GPT-2 regex), Metaspace, Digits,
// Punctuation, Whitespace/WhitespaceSplit and Sequence, and llama.cpp's list-of-regexes splitting.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenizer/regex.h"

namespace sluice {

// The GPT-2 split pattern (HF ByteLevel use_regex=true).
extern const char* const kGpt2SplitPattern;

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits one piece at the matches of a regex according to behavior (invert: the non-matches are
// the delimiters). Empty pieces are never produced.
void split_piece(std::string_view piece, const Regex& re, SplitBehavior behavior, bool invert,
                 std::vector<std::string>* out);

class PreTokenizer {
 public:
  struct Step {
    enum Kind { kSplit, kMetaspace } kind;
    std::shared_ptr<const Regex> regex;
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
    // Metaspace
    std::string replacement = "\xE2\x96\x81";  // "▁"
    enum Prepend { kAlways, kFirst, kNever } prepend = kAlways;
    bool split = true;
    // ByteLevel add_prefix_space: prepend " " to a piece that does not start with one.
    bool add_prefix_space = false;
  };

  static Result<PreTokenizer> from_json(const nlohmann::json& j);
  // llama.cpp style: each regex splits every piece of the previous one (Isolated).
  static Result<PreTokenizer> from_regex_list(const std::vector<std::string>& patterns,
                                              bool dollar_end_only, bool byte_level);

  // first_segment: the text starts the input (Metaspace prepend_scheme "first").
  void split(std::string_view text, bool first_segment, std::vector<std::string>* out) const;
  // True when a ByteLevel pre-tokenizer is present (pieces are then byte-level encoded).
  bool byte_level() const { return byte_level_; }

 private:
  Status parse_into(const nlohmann::json& j);
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

}  // namespace sluice
