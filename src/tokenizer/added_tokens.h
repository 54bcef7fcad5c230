#pragma once
// Added tokens (tokenizer.json "added_tokens"; GGUF control / user-defined tokens) are cut out of
// the text before normalization and the model run. Matching is leftmost-longest, as in HF.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;      // matched only with parse_special
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // matched only when not inside a word
  bool normalized = false;   // matched against normalized text (second pass)
};

// A piece of input: either text to tokenize, or an added token's id.
struct Segment {
  std::string text;
  int32_t id = -1;  // >= 0: an added token
  bool is_token() const { return id >= 0; }
};

class AddedTokenMatcher {
 public:
  void add(const AddedToken& token);
  bool empty() const { return tokens_.empty(); }
  // Splits text at matches of the tokens with the given normalized flag (special ones only when
  // parse_special). Appends to out.
  void split(std::string_view text, bool parse_special, bool normalized,
             std::vector<Segment>* out) const;

 private:
  std::vector<AddedToken> tokens_;
  std::vector<int32_t> by_first_byte_[256];  // indexes into tokens_, longest content first
};

}  // namespace sluice
