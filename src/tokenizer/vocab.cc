#include "tokenizer/vocab.h"

namespace sluice {

void Vocab::set(int32_t id, std::string text, TokenKind kind) {
  if (id >= size()) {
    id_to_text.resize(static_cast<size_t>(id) + 1);
    kinds.resize(static_cast<size_t>(id) + 1, TokenKind::kUnused);
  }
  text_to_id.emplace(text, id);
  id_to_text[static_cast<size_t>(id)] = std::move(text);
  kinds[static_cast<size_t>(id)] = kind;
}

std::optional<uint8_t> parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(text[3]), lo = hex(text[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

}  // namespace sluice
