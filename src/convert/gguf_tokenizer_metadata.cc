#include "convert/gguf_tokenizer_metadata.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/gguf.h"
#include "tokenizer/vocab.h"

namespace sluice {

namespace {

Result<nlohmann::json> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::error("tokenizer", path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return Status::error("tokenizer", path + ": invalid JSON");
  return j;
}

// GGUF token types.
constexpr int32_t kNormalType = gguf_token_type(TokenKind::kNormal),
                  kControlType = gguf_token_type(TokenKind::kControl),
                  kUserDefinedType = gguf_token_type(TokenKind::kUserDefined),
                  kUnusedType = gguf_token_type(TokenKind::kUnused);

struct HfVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  std::string pre;
  bool add_bos = false;
  int64_t bos = -1, eos = -1;
  std::string chat_template;
};

std::string special_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

Result<HfVocab> read_hf_vocab(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(nlohmann::json j, read_json(path));
  const std::string where = path + ": ";
  if (!j.contains("model") || !j["model"].is_object() || j["model"].value("type", "") != "BPE")
    return Status::error("tokenizer",
                         where + "only BPE tokenizer.json files can be written to GGUF");
  const auto& model = j["model"];
  if (model.value("byte_fallback", false))
    return Status::error("tokenizer", where + "byte-fallback BPE cannot be written to GGUF here");
  HfVocab v;
  if (!model.contains("vocab") || !model["vocab"].is_object())
    return Status::error("tokenizer", where + "model.vocab missing");
  std::map<int64_t, std::pair<std::string, int32_t>> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it)
    by_id[it.value().get<int64_t>()] = {it.key(), kNormalType};
  std::map<std::string, int64_t> id_of;
  for (const auto& [id, tv] : by_id) id_of[tv.first] = id;
  if (j.contains("added_tokens"))
    for (const auto& a : j["added_tokens"]) {
      const int64_t id = a.value("id", int64_t{-1});
      const std::string content = a.value("content", "");
      by_id[id] = {content, a.value("special", false) ? kControlType : kUserDefinedType};
      id_of[content] = id;
    }
  if (by_id.empty() || by_id.begin()->first != 0 ||
      by_id.rbegin()->first != static_cast<int64_t>(by_id.size()) - 1)
    return Status::error("tokenizer", where + "token ids are not contiguous from 0");
  for (const auto& [id, tv] : by_id) {
    v.tokens.push_back(tv.first);
    v.types.push_back(tv.second);
  }
  if (model.contains("merges"))
    for (const auto& m : model["merges"]) {
      if (m.is_string())
        v.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2)
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    }
  // llama.cpp names the pre-tokenizer regex: Llama 3 groups digits by three, Qwen2 splits them.
  const std::string dump = j.contains("pre_tokenizer") ? j["pre_tokenizer"].dump() : "";
  if (dump.find("Split") == std::string::npos)
    v.pre = "gpt-2";
  else
    v.pre = dump.find("{1,3}") != std::string::npos ? "llama-bpe" : "qwen2";
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const auto& pp = j["post_processor"];
    const std::string d = pp.dump();
    v.add_bos = d.find("TemplateProcessing") != std::string::npos && pp.contains("single") &&
                pp["single"].is_array() && !pp["single"].empty() &&
                pp["single"][0].contains("SpecialToken");
    if (v.add_bos) {
      const std::string bos = pp["single"][0]["SpecialToken"].value("id", "");
      if (id_of.count(bos)) v.bos = id_of[bos];
    }
  }
  const std::string cfg_path = path.substr(0, path.rfind('/') + 1) + "tokenizer_config.json";
  if (std::ifstream(cfg_path)) {
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json tc, read_json(cfg_path));
    if (tc.contains("bos_token")) {
      const std::string b = special_text(tc["bos_token"]);
      if (id_of.count(b)) v.bos = id_of[b];
    }
    if (tc.contains("eos_token")) {
      const std::string e = special_text(tc["eos_token"]);
      if (id_of.count(e)) v.eos = id_of[e];
    }
    if (tc.contains("add_bos_token") && tc["add_bos_token"].is_boolean())
      v.add_bos = tc["add_bos_token"].get<bool>();
    if (tc.contains("chat_template") && tc["chat_template"].is_string())
      v.chat_template = tc["chat_template"].get<std::string>();
  }
  return v;
}

Status copy_gguf_tokenizer(const std::string& path, int64_t vocab_size, GgufWriter& w) {
  SLUICE_ASSIGN_OR_RETURN(auto g, GgufFile::open(path));
  for (const auto& [key, value] : g->metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    if (auto* s = std::get_if<std::string>(&value.v))
      w.add_string(key, *s);
    else if (auto* b = std::get_if<bool>(&value.v))
      w.add_bool(key, *b);
    else if (auto* i = std::get_if<int64_t>(&value.v); i && key.ends_with("_token_id"))
      w.add_uint32(key, static_cast<uint32_t>(*i));  // uint32 in the spec; llama.cpp checks it
    else if (auto* i = std::get_if<int64_t>(&value.v))
      w.add_int32(key, static_cast<int32_t>(*i));
    else if (auto* u = std::get_if<uint64_t>(&value.v))
      w.add_uint32(key, static_cast<uint32_t>(*u));
    else if (auto* d = std::get_if<double>(&value.v))
      w.add_float32(key, static_cast<float>(*d));
    else if (key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.merges") {
      auto arr = g->get_string_array(key);
      if (!arr) return Status::error("tokenizer", path + ": " + key + " is not a string array");
      if (key == "tokenizer.ggml.tokens")
        for (int64_t i = static_cast<int64_t>(arr->size()); i < vocab_size; ++i)
          arr->push_back("[PAD" + std::to_string(i) + "]");
      w.add_string_array(key, *arr);
    } else if (key == "tokenizer.ggml.scores") {
      auto arr = g->get_float_array(key);
      if (!arr) return Status::error("tokenizer", path + ": " + key + " is not a float array");
      std::vector<float> f(arr->begin(), arr->end());
      f.resize(std::max<size_t>(f.size(), vocab_size), -1e9f);
      w.add_float32_array(key, f);
    } else if (key == "tokenizer.ggml.token_type") {
      auto arr = g->get_int_array(key);
      if (!arr) return Status::error("tokenizer", path + ": " + key + " is not an int array");
      std::vector<int32_t> t(arr->begin(), arr->end());
      t.resize(std::max<size_t>(t.size(), vocab_size), kUnusedType);
      w.add_int32_array(key, t);
    }
  }
  return Status::ok();
}

}  // namespace

Result<int64_t> count_tokenizer_tokens(const std::string& path) {
  if (path.ends_with(".gguf")) {
    SLUICE_ASSIGN_OR_RETURN(auto g, GgufFile::open(path));
    auto toks = g->get_string_array("tokenizer.ggml.tokens");
    if (!toks) return Status::error("tokenizer", path + ": no tokenizer.ggml.tokens");
    return static_cast<int64_t>(toks->size());
  }
  SLUICE_ASSIGN_OR_RETURN(HfVocab v, read_hf_vocab(path));
  return static_cast<int64_t>(v.tokens.size());
}

Status add_gguf_tokenizer_metadata(const std::string& path, int64_t vocab_size, GgufWriter& w) {
  if (path.ends_with(".gguf")) return copy_gguf_tokenizer(path, vocab_size, w);
  SLUICE_ASSIGN_OR_RETURN(HfVocab v, read_hf_vocab(path));
  for (int64_t i = static_cast<int64_t>(v.tokens.size()); i < vocab_size; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    v.types.push_back(kUnusedType);
  }
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", v.pre);
  w.add_string_array("tokenizer.ggml.tokens", v.tokens);
  w.add_int32_array("tokenizer.ggml.token_type", v.types);
  w.add_string_array("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) w.add_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos));
  if (v.eos >= 0) w.add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos));
  w.add_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", false);
  if (!v.chat_template.empty()) w.add_string("tokenizer.chat_template", v.chat_template);
  return Status::ok();
}

}  // namespace sluice
