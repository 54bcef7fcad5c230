#include "api/responses/responses_input.h"

#include <algorithm>
#include <map>

#include "api/responses/responses_output.h"

namespace sluice::api {

namespace {

// Item types of the Responses API that this server does not run or take.
// clang-format off
const char* const kUnsupportedItems[] = {
    "item_reference", "file_search_call",
    "web_search_call", "computer_call", "computer_call_output", "image_generation_call",
    "code_interpreter_call", "local_shell_call", "local_shell_call_output", "shell_call",
    "shell_call_output", "apply_patch_call", "apply_patch_call_output", "mcp_list_tools",
    "mcp_approval_request", "mcp_approval_response", "mcp_call", "compaction",
    "tool_search_call", "tool_search_output"};
const char* const kUnsupportedParts[] = {"input_file", "input_audio"};
// clang-format on

ApiError bad_input(const std::string& what) {
  return invalid(what, "input");
}

const std::string& string_field(const Json& obj, const char* name, const std::string& where) {
  const Json* v = json_field(obj, name);
  if (!v || !v->is_string()) throw bad_input(where + "." + name + " must be a string");
  return v->get_ref<const std::string&>();
}

std::string type_of(const Json& obj) {
  const Json* t = json_field(obj, "type");
  return t && t->is_string() ? t->get<std::string>() : "";
}

// Text parts (input_text, output_text, refusal) -> [{type, text}].
Json normalize_parts(const Json& content, const std::string& role, const std::string& where) {
  const char* plain = role == "assistant" ? "output_text" : "input_text";
  if (content.is_string()) return Json::array({Json{{"type", plain}, {"text", content}}});
  if (!content.is_array()) throw bad_input(where + " must be a string or a list of content parts");
  Json parts = Json::array();
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& p = content[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!p.is_object()) throw bad_input(at + " must be an object with a 'type'");
    const std::string type = type_of(p);
    if (type == "input_text" || type == "output_text") {
      Json part = p;
      string_field(p, "text", at);
      parts.push_back(std::move(part));
    } else if (type == "input_image" && role == "user") {  // served by a vision model
      if (json_field(p, "file_id")) throw bad_input(at + ".file_id: files are not supported");
      string_field(p, "image_url", at);
      parts.push_back(p);
    } else if (type == "refusal" && role == "assistant") {
      parts.push_back(Json{{"type", "refusal"}, {"refusal", string_field(p, "refusal", at)}});
    } else if (listed(kUnsupportedParts, type)) {
      throw bad_input(at + ".type '" + type + "' is not supported by this server");
    } else {
      throw bad_input(at + ".type must be 'input_text' or 'output_text', got '" + type + "'");
    }
  }
  return parts;
}

Json normalize_item(const Json& item, const std::string& where) {
  if (!item.is_object()) throw bad_input(where + " must be an object");
  std::string type = type_of(item);
  if (type.empty() && item.contains("role")) type = "message";  // EasyInputMessage
  Json out = item;
  out["type"] = type;
  if (type == "message") {
    const std::string& role = string_field(item, "role", where);
    if (role != "user" && role != "assistant" && role != "system" && role != "developer")
      throw bad_input(where + ".role must be 'user', 'assistant', 'system' or 'developer', got '" +
                      role + "'");
    if (!json_field(item, "content")) throw bad_input(where + ".content is required");
    out["content"] = normalize_parts(item["content"], role, where + ".content");
  } else if (type == "function_call") {
    string_field(item, "call_id", where);
    string_field(item, "name", where);
    string_field(item, "arguments", where);
  } else if (type == "custom_tool_call") {
    string_field(item, "call_id", where);
    string_field(item, "name", where);
    string_field(item, "input", where);
  } else if (type == "function_call_output" || type == "custom_tool_call_output") {
    string_field(item, "call_id", where);
    const Json* output = json_field(item, "output");
    if (!output) throw bad_input(where + ".output is required");
    if (!output->is_string()) {  // a list of input_text parts
      std::string text;
      for (const Json& p : normalize_parts(*output, "user", where + ".output"))
        text += (text.empty() ? "" : "\n") + p.value("text", "");
      out["output"] = text;
    }
  } else if (type == "reasoning") {
    for (const char* list : {"summary", "content"}) {
      const Json* parts = json_field(item, list);
      if (!parts) continue;
      if (!parts->is_array()) throw bad_input(where + "." + list + " must be a list");
      for (size_t i = 0; i < parts->size(); ++i)
        string_field((*parts)[i], "text", where + "." + list + "[" + std::to_string(i) + "]");
    }
    if (const Json* sealed = json_field(item, "encrypted_content");
        sealed && !sealed->is_null() &&
        !(sealed->is_string() && decode_reasoning(sealed->get<std::string>())))
      throw bad_input(where + ".encrypted_content is not one this server wrote");
  } else if (listed(kUnsupportedItems, type)) {
    throw bad_input(where + ".type '" + type + "' is not supported (only message, function_call, " +
                    "function_call_output, custom_tool_call, custom_tool_call_output and " +
                    "reasoning items)");
  } else {
    throw bad_input(where + ".type: unknown input item type '" + type + "'");
  }
  return out;
}

// A message's text: its parts joined with "\n".
std::string parts_text(const Json& parts) {
  std::string text;
  for (const Json& p : parts) {
    if (!text.empty()) text += "\n";
    text += p.contains("text") ? p["text"].get<std::string>() : p.value("refusal", "");
  }
  return text;
}

// A reasoning item's text: its reasoning_text content, else its encrypted_content (as this
// server writes it), else its summary.
std::string reasoning_text(const Json& item) {
  auto joined = [&](const char* list) {
    std::string text;
    if (const Json* parts = json_field(item, list))
      for (const Json& p : *parts) text += p["text"].get<std::string>();
    return text;
  };
  if (std::string text = joined("content"); !text.empty()) return text;
  if (const Json* sealed = json_field(item, "encrypted_content"); sealed && sealed->is_string())
    if (auto text = decode_reasoning(sealed->get<std::string>())) return *text;
  return joined("summary");
}

}  // namespace

Json normalize_input_items(const Json& input) {
  if (input.is_string())
    return Json::array(
        {Json{{"type", "message"},
              {"role", "user"},
              {"content", Json::array({{{"type", "input_text"}, {"text", input}}})}}});
  if (!input.is_array()) throw bad_input("input must be a string or a list of items");
  Json items = Json::array();
  for (size_t i = 0; i < input.size(); ++i)
    items.push_back(normalize_item(input[i], "input[" + std::to_string(i) + "]"));
  return items;
}

Json chat_messages(const Json& items, const std::optional<std::string>& instructions) {
  std::string system = instructions.value_or("");
  Json turns = Json::array();
  std::string reasoning;  // from reasoning items, for the next assistant turn
  std::map<std::string, std::string> call_names;
  auto assistant_turn = [&]() -> Json& {
    if (turns.empty() || turns.back()["role"] != "assistant")
      turns.push_back(Json{{"role", "assistant"}, {"content", ""}});
    Json& turn = turns.back();
    if (!reasoning.empty()) {
      turn["reasoning_content"] = turn.value("reasoning_content", "") + reasoning;
      reasoning.clear();
    }
    return turn;
  };
  for (const Json& item : items) {
    const std::string type = item["type"];
    if (type == "message") {
      const std::string role = item["role"];
      const std::string text = parts_text(item["content"]);
      if (role == "system" || role == "developer") {
        if (!text.empty()) system += (system.empty() ? "" : "\n\n") + text;
      } else if (role == "assistant") {
        Json& turn = assistant_turn();
        const std::string before = turn["content"];
        turn["content"] = before.empty() ? text : before + "\n" + text;
      } else {
        reasoning.clear();
        const bool images = std::any_of(item["content"].begin(), item["content"].end(),
                                        [](const Json& p) { return type_of(p) == "input_image"; });
        turns.push_back(Json{{"role", "user"}, {"content", images ? item["content"] : Json(text)}});
      }
    } else if (type == "function_call" || type == "custom_tool_call") {
      Json& turn = assistant_turn();
      if (!turn.contains("tool_calls")) turn["tool_calls"] = Json::array();
      call_names[item["call_id"]] = item["name"];
      // A custom tool is presented as a function with one `input` (custom_tools.h).
      const Json arguments =
          type == "function_call" ? item["arguments"] : Json(Json{{"input", item["input"]}}.dump());
      turn["tool_calls"].push_back(
          Json{{"id", item["call_id"]},
               {"type", "function"},
               {"function", {{"name", item["name"]}, {"arguments", arguments}}}});
    } else if (type == "function_call_output" || type == "custom_tool_call_output") {
      reasoning.clear();
      Json turn{{"role", "tool"}, {"tool_call_id", item["call_id"]}, {"content", item["output"]}};
      if (auto it = call_names.find(item["call_id"]); it != call_names.end())
        turn["name"] = it->second;
      turns.push_back(std::move(turn));
    } else if (type == "reasoning") {
      reasoning += reasoning_text(item);
    }
  }
  Json messages = Json::array();
  if (!system.empty()) messages.push_back(Json{{"role", "system"}, {"content", system}});
  for (Json& t : turns) messages.push_back(std::move(t));
  if (turns.empty()) throw bad_input("input has no user, assistant or tool item");
  return messages;
}

}  // namespace sluice::api
