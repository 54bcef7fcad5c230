#include "tokenizer/chat_template/template_source.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error("template", "cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool has_gguf_magic(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  return f && std::string(magic, 4) == "GGUF";
}

// "<s>" or {"content": "<s>", ...} -> "<s>"; anything else -> nullopt.
std::optional<std::string> token_text(const nlohmann::ordered_json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string())
    return j["content"].get<std::string>();
  return std::nullopt;
}

Result<ChatTemplateSource> from_tokenizer_config(const std::string& path, bool has_tools,
                                                 const std::string& template_override) {
  SLUICE_ASSIGN_OR_RETURN(std::string text, read_file(path));
  nlohmann::ordered_json cfg = nlohmann::ordered_json::parse(text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object())
    return Status::error("template", path + ": not a JSON object");
  ChatTemplateSource out;
  out.origin = path;
  if (!template_override.empty()) {
    SLUICE_ASSIGN_OR_RETURN(out.source, read_file(template_override));
    out.origin = template_override;
  } else {
    const auto it = cfg.find("chat_template");
    if (it == cfg.end() || it->is_null())
      return Status::error("template", path + " has no chat_template");
    if (it->is_string()) {
      out.source = it->get<std::string>();
    } else if (it->is_array()) {
      std::optional<std::string> def, tool_use;
      for (const auto& e : *it) {
        if (!e.is_object() || !e.contains("name") || !e.contains("template")) continue;
        if (!e["name"].is_string() || !e["template"].is_string()) continue;
        if (e["name"] == "default") def = e["template"].get<std::string>();
        if (e["name"] == "tool_use") tool_use = e["template"].get<std::string>();
      }
      if (has_tools && tool_use)
        out.source = *tool_use;
      else if (def)
        out.source = *def;
      else
        return Status::error("template", path + ": chat_template list has no \"default\" entry");
    } else {
      return Status::error("template", path + ": chat_template is neither a string nor a list");
    }
  }
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"}) {
    auto it = cfg.find(key);
    if (it == cfg.end()) continue;
    if (auto t = token_text(*it)) out.special_tokens[key] = *t;
  }
  auto extra = cfg.find("additional_special_tokens");
  if (extra != cfg.end() && extra->is_array() && !extra->empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : *extra)
      if (auto t = token_text(e)) list.push_back(*t);
    out.special_tokens["additional_special_tokens"] = std::move(list);
  }
  return out;
}

Result<ChatTemplateSource> from_gguf(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto gguf, GgufFile::open(path));
  ChatTemplateSource out;
  out.origin = path;
  auto tpl = gguf->get_string("tokenizer.chat_template");
  if (!tpl) return Status::error("template", path + " has no tokenizer.chat_template");
  out.source = *tpl;
  auto tokens = gguf->get_string_array("tokenizer.ggml.tokens");
  if (tokens) {
    auto put = [&](const char* id_key, const char* name) {
      auto id = gguf->get_int(id_key);
      if (id && *id >= 0 && static_cast<size_t>(*id) < tokens->size())
        out.special_tokens[name] = (*tokens)[*id];
    };
    put("tokenizer.ggml.bos_token_id", "bos_token");
    put("tokenizer.ggml.eos_token_id", "eos_token");
    put("tokenizer.ggml.unknown_token_id", "unk_token");
    put("tokenizer.ggml.seperator_token_id", "sep_token");
    put("tokenizer.ggml.padding_token_id", "pad_token");
  }
  return out;
}

}  // namespace

Result<ChatTemplateSource> load_chat_template_source(const std::string& path, bool has_tools) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    std::string jinja = (dir / "chat_template.jinja").string();
    std::string config = (dir / "tokenizer_config.json").string();
    bool has_jinja = fs::is_regular_file(jinja, ec);
    if (fs::is_regular_file(config, ec))
      return from_tokenizer_config(config, has_tools, has_jinja ? jinja : "");
    if (has_jinja) {
      ChatTemplateSource out;
      SLUICE_ASSIGN_OR_RETURN(out.source, read_file(jinja));
      out.origin = jinja;
      return out;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".gguf") return from_gguf(entry.path().string());
    return Status::error("template", path +
                                         ": no chat_template.jinja, tokenizer_config.json or "
                                         "GGUF file in this directory");
  }
  if (!fs::exists(path, ec)) return Status::error("template", "no such file: " + path);
  if (has_gguf_magic(path)) return from_gguf(path);
  if (fs::path(path).extension() == ".json") return from_tokenizer_config(path, has_tools, "");
  ChatTemplateSource out;
  SLUICE_ASSIGN_OR_RETURN(out.source, read_file(path));
  out.origin = path;
  return out;
}

}  // namespace sluice
