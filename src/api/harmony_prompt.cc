#include "api/harmony_prompt.h"

#include <map>
#include <vector>

#include "api/harmony_typescript.h"

namespace sluice::api {

namespace {

struct Message {
  std::string author;  // "system", "developer", "user", "assistant", "functions.NAME"
  std::string recipient, channel, content_type, content;
};

std::string text_of(const Json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

// Rust's str::lines(): no empty last line, "\r\n" counts as "\n".
std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

std::string tools_section(const Json& tools) {
  std::string s = "# Tools\n\n## functions\n\nnamespace functions {\n";
  for (const Json& t : tools) {
    const Json& f = t.contains("function") ? t["function"] : t;
    for (const std::string& line : lines(text_of(f, "description"))) s += "\n// " + line;
    s += "\ntype " + text_of(f, "name") + " = ";
    const bool has_params = f.contains("parameters") && !f["parameters"].is_null();
    s += has_params ? "(_: " + harmony_typescript(f["parameters"]) + ") => any;\n" : "() => any;\n";
  }
  return s + "\n} // namespace functions";
}

std::string system_text(const HarmonyPromptOptions& o, bool function_tools) {
  std::string s = o.model_identity + "\nKnowledge cutoff: 2024-06";
  if (!o.date.empty()) s += "\nCurrent date: " + o.date;
  s += "\n\nReasoning: " + o.reasoning_effort + "\n\n";
  s += "# Valid channels: analysis, commentary, final. Channel must be included for every message.";
  if (function_tools) s += "\nCalls to these tools must go to the commentary channel: 'functions'.";
  return s;
}

std::string developer_text(const std::string& instructions, const Json& tools) {
  std::string s;
  if (!instructions.empty()) s = "# Instructions\n\n" + instructions;
  if (tools.is_array() && !tools.empty()) s += (s.empty() ? "" : "\n\n") + tools_section(tools);
  return s;
}

std::string arguments_text(const Json& function) {
  auto it = function.find("arguments");
  if (it == function.end() || it->is_null()) return "{}";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string reasoning_of(const Json& m) {
  for (const char* key : {"reasoning_content", "reasoning", "thinking"})
    if (std::string r = text_of(m, key); !r.empty()) return r;
  return "";
}

// One assistant turn: analysis, then a preamble and calls, or a final message.
void add_assistant(const Json& m, std::vector<Message>& out,
                   std::map<std::string, std::string>& call_names, std::string& last_call) {
  const std::string reasoning = reasoning_of(m);
  if (!reasoning.empty()) out.push_back({"assistant", "", "analysis", "", reasoning});
  const std::string content = text_of(m, "content");
  const Json* calls =
      m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty()
          ? &m["tool_calls"]
          : nullptr;
  if (!calls) {
    if (!content.empty() || reasoning.empty())  // reasoning alone: no empty final message
      out.push_back({"assistant", "", "final", "", content});
    return;
  }
  if (!content.empty()) out.push_back({"assistant", "", "commentary", "", content});
  for (const Json& c : *calls) {
    const Json& f = c.contains("function") && c["function"].is_object() ? c["function"] : c;
    const std::string name = text_of(f, "name");
    out.push_back(
        {"assistant", "functions." + name, "commentary", "<|constrain|>json", arguments_text(f)});
    if (std::string id = text_of(c, "id"); !id.empty()) call_names[id] = name;
    last_call = name;
  }
}

std::vector<Message> to_messages(const Json& messages, const Json& tools,
                                 const HarmonyPromptOptions& o) {
  std::vector<Message> out;
  const bool function_tools = tools.is_array() && !tools.empty();
  out.push_back({"system", "", "", "", system_text(o, function_tools)});
  size_t first = 0;
  std::string instructions;
  if (!messages.empty()) {
    const std::string role = text_of(messages[0], "role");
    if (role == "system" || role == "developer")
      instructions = text_of(messages[0], "content"), first = 1;
  }
  if (std::string dev = developer_text(instructions, tools); !dev.empty())
    out.push_back({"developer", "", "", "", dev});
  std::map<std::string, std::string> call_names;
  std::string last_call;
  for (size_t i = first; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string role = text_of(m, "role");
    if (role == "system" || role == "developer") {
      if (std::string dev = developer_text(text_of(m, "content"), nullptr); !dev.empty())
        out.push_back({"developer", "", "", "", dev});
    } else if (role == "user") {
      out.push_back({"user", "", "", "", text_of(m, "content")});
    } else if (role == "assistant") {
      add_assistant(m, out, call_names, last_call);
    } else if (role == "tool") {
      auto it = call_names.find(text_of(m, "tool_call_id"));
      const std::string name = it != call_names.end() ? it->second : last_call;
      if (name.empty())
        throw invalid("messages[" + std::to_string(i) +
                          "]: a tool result needs an earlier assistant tool call",
                      "messages");
      out.push_back({"functions." + name, "assistant", "commentary", "", text_of(m, "content")});
    }
  }
  return out;
}

void render(const Message& m, std::string& out) {
  out += "<|start|>" + m.author;
  if (!m.recipient.empty()) out += " to=" + m.recipient;
  if (!m.channel.empty()) out += "<|channel|>" + m.channel;
  if (!m.content_type.empty()) out += " " + m.content_type;
  out += "<|message|>" + m.content;
  out += m.author == "assistant" && !m.recipient.empty() ? "<|call|>" : "<|end|>";
}

}  // namespace

std::string render_harmony_prompt(const Json& messages, const Json& tools,
                                  const HarmonyPromptOptions& options) {
  const std::vector<Message> msgs = to_messages(messages, tools, options);
  // auto_drop_analysis: when the last assistant message is final, analysis messages before the
  // first final message are dropped.
  size_t first_final = msgs.size();
  bool last_is_final = false;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].channel == "final" && first_final == msgs.size()) first_final = i;
    if (msgs[i].author == "assistant") last_is_final = msgs[i].channel == "final";
  }
  std::string out;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (last_is_final && i < first_final && msgs[i].channel == "analysis") continue;
    render(msgs[i], out);
  }
  if (options.add_generation_prompt) out += "<|start|>assistant";
  return out;
}

}  // namespace sluice::api
