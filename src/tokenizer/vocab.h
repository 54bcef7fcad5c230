#pragma once
// The token table shared by all tokenizer models: id <-> text, kinds (normal, byte, control, ...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice {

// Token kinds (GGUF token_type values; tokenizer.json added tokens map to kControl / kUserDefined).
enum class TokenKind : uint8_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // special: skipped by skip_special, matched only with parse_special
  kUserDefined = 4,  // added token: always matched, decoded as raw text
  kUnused = 5,
  kByte = 6,  // <0xNN> byte-fallback token
};
// The GGUF `tokenizer.ggml.token_type` value of a kind.
constexpr int32_t gguf_token_type(TokenKind kind) {
  return static_cast<int32_t>(kind);
}

// Lets string_view look up std::string keys without a temporary string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Vocab {
  std::vector<std::string> id_to_text;  // "" for ids that do not exist
  std::vector<TokenKind> kinds;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> text_to_id;

  int32_t size() const { return static_cast<int32_t>(id_to_text.size()); }
  std::optional<int32_t> find(std::string_view text) const {
    auto it = text_to_id.find(text);
    if (it == text_to_id.end()) return std::nullopt;
    return it->second;
  }
  // Grows the table as needed; the first id registered for a text wins the text -> id mapping.
  void set(int32_t id, std::string text, TokenKind kind);
};

// "<0x41>" -> 0x41; nullopt for anything else.
std::optional<uint8_t> parse_byte_token(std::string_view text);

}  // namespace sluice
