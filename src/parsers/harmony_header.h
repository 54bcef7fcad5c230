#pragma once
// The header of one harmony message (gpt-oss): the text between the message's start and
// <|message|>. The output of a prompt ending in "<|start|>assistant" begins with a header whose
// role is already given; every later message starts with <|start|> and names its role:
//   [ROLE][ to=RECIPIENT]<|channel|>CHANNEL[ to=RECIPIENT][ [<|constrain|>]CONTENT_TYPE]
// The recipient may come before or after the channel. A message with a recipient other than
// "assistant" is a tool call; "functions.NAME" calls the function NAME.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::parsers {

inline constexpr std::string_view kHarmonyStart = "<|start|>";
inline constexpr std::string_view kHarmonyChannel = "<|channel|>";
inline constexpr std::string_view kHarmonyConstrain = "<|constrain|>";
inline constexpr std::string_view kHarmonyMessage = "<|message|>";
inline constexpr std::string_view kHarmonyEnd = "<|end|>";
inline constexpr std::string_view kHarmonyCall = "<|call|>";
inline constexpr std::string_view kHarmonyReturn = "<|return|>";

struct HarmonyHeader {
  std::string role;          // empty when the prompt gave it
  std::string channel;       // "analysis", "commentary", "final", ...; empty: none
  std::string recipient;     // the "to=" value; empty: none
  std::string content_type;  // "json", "<|constrain|>json"; empty: none
};

// A complete header (role_given: it starts after the role, as the first one of an output does).
HarmonyHeader parse_harmony_header(std::string_view text, bool role_given);
// The recipient of a header still arriving, once its value is complete (followed by whitespace
// or '<').
std::optional<std::string> complete_recipient(std::string_view partial_header);
// The function a recipient calls ("functions.get_weather" -> "get_weather"; other recipients,
// e.g. built-in tools such as "python", are returned whole); nullopt when it is no call.
std::optional<std::string> called_function(std::string_view recipient);

}  // namespace sluice::parsers
