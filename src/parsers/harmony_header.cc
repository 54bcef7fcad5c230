#include "parsers/harmony_header.h"

#include <vector>

namespace sluice::parsers {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Words of a header: whitespace separates them, and <|channel|> / <|constrain|> start a word
// (their text stays at the front of it).
std::vector<std::string_view> header_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    for (std::string_view marker : {kHarmonyChannel, kHarmonyConstrain})
      if (text.substr(i).starts_with(marker)) end = i + marker.size();
    while (end < text.size() && !is_space(text[end]) && text[end] != '<') ++end;
    if (end == i) ++end;  // a lone '<' that starts no marker
    words.push_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

}  // namespace

HarmonyHeader parse_harmony_header(std::string_view text, bool role_given) {
  HarmonyHeader h;
  bool first = !role_given;
  for (std::string_view w : header_words(text)) {
    if (w.starts_with(kHarmonyChannel)) {
      h.channel = std::string(w.substr(kHarmonyChannel.size()));
    } else if (w.starts_with("to=")) {
      h.recipient = std::string(w.substr(3));
    } else if (first) {
      h.role = std::string(w);
    } else {
      h.content_type = std::string(w);
    }
    first = false;
  }
  return h;
}

std::optional<std::string> complete_recipient(std::string_view partial) {
  for (size_t i = 0; i + 3 <= partial.size(); ++i) {
    const bool word_start = i == 0 || is_space(partial[i - 1]) || partial[i - 1] == '>';
    if (!word_start || partial.substr(i, 3) != "to=") continue;
    size_t end = i + 3;
    while (end < partial.size() && !is_space(partial[end]) && partial[end] != '<') ++end;
    if (end == partial.size()) return std::nullopt;  // its value may go on
    return std::string(partial.substr(i + 3, end - i - 3));
  }
  return std::nullopt;
}

std::optional<std::string> called_function(std::string_view recipient) {
  if (recipient.empty() || recipient == "assistant" || recipient == "all") return std::nullopt;
  constexpr std::string_view kFunctions = "functions.";
  if (recipient.starts_with(kFunctions) && recipient.size() > kFunctions.size())
    return std::string(recipient.substr(kFunctions.size()));
  return std::string(recipient);
}

}  // namespace sluice::parsers
