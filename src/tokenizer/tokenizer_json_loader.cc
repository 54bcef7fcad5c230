// tokenizer.json (Hugging Face `tokenizers`) -> ModelTokenizer. Supports model type BPE (byte-level
// or byte-fallback), its normalizers, pre-tokenizers, decoders, added tokens and the
// TemplateProcessing post-processor; tokenizer_config.json beside it supplies bos/eos.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/model_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

using nlohmann::json;

Result<json> read_json(const std::string& path, const std::string& where) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error(where, "cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error(where, path + ": invalid JSON");
  return j;
}

// "bos_token": "<s>" or {"content": "<s>", ...}
std::optional<std::string> token_string(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

Status parse_decoder(const json& j, DecoderConfig* d) {
  if (j.is_null()) return Status::ok();
  if (!j.is_object() || !j.contains("type")) {
    return Status::error("tokenizer.json", "decoder without a \"type\"");
  }
  const std::string type = j["type"];
  if (type == "Sequence") {
    for (const auto& sub : j.value("decoders", json::array())) {
      SLUICE_RETURN_IF_ERROR(parse_decoder(sub, d));
    }
  } else if (type == "ByteLevel") {
    d->byte_level = true;
  } else if (type == "Metaspace") {
    d->metaspace = j.value("replacement", std::string("\xE2\x96\x81"));
    const std::string scheme =
        j.value("prepend_scheme", j.value("add_prefix_space", true) ? "always" : "never");
    if (scheme != "never") d->strip_leading_spaces = 1;
  } else if (type == "Replace") {
    const json pat = j.value("pattern", json::object());
    const std::string content = j.value("content", std::string());
    if (pat.contains("String") && pat["String"].is_string() && content == " ") {
      d->metaspace = pat["String"];
    } else {
      return Status::error("tokenizer.json", "unsupported Replace decoder");
    }
  } else if (type == "ByteFallback") {
    d->byte_tokens = true;
  } else if (type == "Fuse") {
    // Concatenation is what decode does anyway.
  } else if (type == "Strip") {
    if (j.value("content", std::string(" ")) != " ") {
      return Status::error("tokenizer.json", "unsupported Strip decoder content");
    }
    d->strip_leading_spaces = j.value("start", 0);
  } else {
    return Status::error("tokenizer.json", "unsupported decoder type '" + type + "'");
  }
  return Status::ok();
}

// TemplateProcessing "single": special tokens before / after the sequence.
Status parse_post_processor(const json& j, const Vocab& vocab, std::vector<int32_t>* prefix,
                            std::vector<int32_t>* suffix, bool* found) {
  if (!j.is_object()) return Status::ok();
  const std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const auto& sub : j.value("processors", json::array())) {
      SLUICE_RETURN_IF_ERROR(parse_post_processor(sub, vocab, prefix, suffix, found));
    }
    return Status::ok();
  }
  if (type != "TemplateProcessing") return Status::ok();
  *found = true;
  const json specials = j.value("special_tokens", json::object());
  bool after = false;
  for (const auto& item : j.value("single", json::array())) {
    if (item.contains("Sequence")) {
      after = true;
      continue;
    }
    if (!item.contains("SpecialToken")) continue;
    const std::string name = item["SpecialToken"].value("id", std::string());
    std::vector<int32_t> ids;
    if (specials.contains(name)) {
      for (const auto& id : specials[name].value("ids", json::array()))
        ids.push_back(id.get<int32_t>());
    } else if (auto id = vocab.find(name)) {
      ids.push_back(*id);
    } else {
      return Status::error("tokenizer.json", "post_processor names unknown token '" + name + "'");
    }
    auto* dst = after ? suffix : prefix;
    dst->insert(dst->end(), ids.begin(), ids.end());
  }
  return Status::ok();
}

Result<std::unique_ptr<Tokenizer>> build(const json& root, const json& config) {
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
    return Status::error("tokenizer.json", "missing \"model\"");
  }
  const json& model = root["model"];
  std::string type = model.value("type", std::string());
  if (type.empty() && model.contains("merges")) type = "BPE";
  if (type != "BPE") {
    return Status::error("tokenizer.json",
                         "unsupported model type '" + type + "' (only BPE is supported)");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return Status::error("tokenizer.json", "BPE model without a \"vocab\" object");
  }
  if (!model.value("continuing_subword_prefix", json()).is_null() &&
      !model["continuing_subword_prefix"].get<std::string>().empty()) {
    return Status::error("tokenizer.json", "continuing_subword_prefix is not supported");
  }
  if (!model.value("end_of_word_suffix", json()).is_null() &&
      !model["end_of_word_suffix"].get<std::string>().empty()) {
    return Status::error("tokenizer.json", "end_of_word_suffix is not supported");
  }

  auto tok = std::make_unique<ModelTokenizer>();
  BpeModel::Options opts;
  opts.byte_fallback = model.value("byte_fallback", false);
  opts.ignore_merges = model.value("ignore_merges", false);
  opts.fuse_unk = model.value("fuse_unk", false);

  Vocab& vocab = tok->vocab;
  const json& vj = model["vocab"];
  vocab.text_to_id.reserve(vj.size() + 1024);
  for (auto it = vj.begin(); it != vj.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
      return Status::error("tokenizer.json", "vocab entry '" + it.key() + "' has a bad id");
    }
    TokenKind kind = TokenKind::kNormal;
    if (opts.byte_fallback && parse_byte_token(it.key())) kind = TokenKind::kByte;
    vocab.set(it.value().get<int32_t>(), it.key(), kind);
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    opts.unk_id = vocab.find(model["unk_token"].get<std::string>());
  }

  // Added tokens: registered in the vocabulary and cut out of the text before the model runs.
  for (const auto& a : root.value("added_tokens", json::array())) {
    if (!a.contains("id") || !a.contains("content") || !a["content"].is_string()) {
      return Status::error("tokenizer.json", "added token without id/content");
    }
    AddedToken t;
    t.id = a["id"].get<int32_t>();
    t.content = a["content"];
    t.special = a.value("special", false);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    t.single_word = a.value("single_word", false);
    t.normalized = a.value("normalized", !t.special);
    if (t.id < 0) return Status::error("tokenizer.json", "added token with a negative id");
    vocab.set(t.id, t.content, t.special ? TokenKind::kControl : TokenKind::kUserDefined);
    tok->has_normalized_added = tok->has_normalized_added || t.normalized;
    tok->added.add(t);
  }

  std::vector<std::pair<std::string, std::string>> merges;
  const json mj = model.value("merges", json::array());
  merges.reserve(mj.size());
  for (const auto& m : mj) {
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ', 1);
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        return Status::error("tokenizer.json", "bad merge '" + s + "'");
      }
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return Status::error("tokenizer.json", "bad merge entry " + m.dump());
    }
  }
  SLUICE_ASSIGN_OR_RETURN(tok->bpe, BpeModel::create(vocab, merges, opts, /*strict=*/true));

  SLUICE_ASSIGN_OR_RETURN(tok->normalizer, Normalizer::from_json(root.value("normalizer", json())));
  SLUICE_ASSIGN_OR_RETURN(tok->pre_tokenizer,
                          PreTokenizer::from_json(root.value("pre_tokenizer", json())));
  SLUICE_RETURN_IF_ERROR(parse_decoder(root.value("decoder", json()), &tok->decoder));

  bool has_template = false;
  SLUICE_RETURN_IF_ERROR(parse_post_processor(root.value("post_processor", json()), vocab,
                                              &tok->prefix_ids, &tok->suffix_ids, &has_template));

  if (auto b = token_string(config, "bos_token")) tok->bos = vocab.find(*b);
  if (auto e = token_string(config, "eos_token")) tok->eos = vocab.find(*e);
  if (!tok->bos && tok->prefix_ids.size() == 1) tok->bos = tok->prefix_ids[0];
  if (!has_template) {
    if (config.value("add_bos_token", false) && tok->bos) tok->prefix_ids = {*tok->bos};
    if (config.value("add_eos_token", false) && tok->eos) tok->suffix_ids = {*tok->eos};
  }
  tok->collect_eog({});
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_tokenizer_json(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(json root, read_json(path, "tokenizer.json"));
  json config = json::object();
  const auto cfg_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) {
    auto cfg = read_json(cfg_path.string(), "tokenizer_config.json");
    if (!cfg) return cfg.status();
    if (cfg->is_object()) config = std::move(cfg.value());
  }
  auto tok = build(root, config);
  if (!tok) {
    // "[tokenizer.json] what" -> "[<path>] what"
    const std::string& msg = tok.error();
    const size_t close = msg.find("] ");
    return Status::error(path, close == std::string::npos ? msg : msg.substr(close + 2));
  }
  return tok;
}

}  // namespace sluice
