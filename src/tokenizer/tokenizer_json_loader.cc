// tokenizer.json (Hugging Face `tokenizers`) -> ModelTokenizer. Supports model type BPE (byte-level
// or byte-fallback), its normalizers, pre-tokenizers, decoders, added tokens and the
// TemplateProcessing post-processor; tokenizer_config.json beside it supplies bos/eos. Model type
// WordPiece goes to build_wordpiece_tokenizer (wordpiece_loader.cc).
#include <climits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/added_token_json.h"
#include "tokenizer/model_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece_tokenizer.h"

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

// The two big parts of tokenizer.json (model.vocab, model.merges) are taken out while parsing,
// without DOM nodes (a std::map insert per vocab entry dominated the load time); the rest of the
// file becomes an ordinary json value.
struct BigParts {
  bool has_vocab = false, has_merges = false;
  std::vector<std::pair<std::string, int64_t>> vocab;  // id -1: not an integer
  std::vector<std::pair<std::string, std::string>> merge_pairs;
  std::string bad_merge;  // first malformed merge entry, if any
};

class TokenizerJsonSax : public nlohmann::json_sax<json> {
 public:
  explicit TokenizerJsonSax(BigParts* big) : big_(big) {}
  json root;
  std::string error;

  bool null() override { return value(json()); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode() == kVocab) return vocab_id(v);
    return value(json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode() == kVocab) return vocab_id(v > INT64_MAX ? -1 : static_cast<int64_t>(v));
    return value(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override {
    if (mode() == kVocab) return vocab_id(-1);
    return value(json(v));
  }
  bool string(string_t& v) override {
    switch (mode()) {
      case kVocab:
        return vocab_id(-1);
      case kMerges: {
        const size_t sp = v.find(' ', 1);
        if (sp == std::string::npos || v.find(' ', sp + 1) != std::string::npos) {
          return bad_merge("\"" + v + "\"");
        }
        big_->merge_pairs.emplace_back(v.substr(0, sp), v.substr(sp + 1));
        return true;
      }
      case kMergePair:
        pair_.push_back(std::move(v));
        return true;
      default:
        return value(json(std::move(v)));
    }
  }
  bool binary(binary_t&) override { return value(json()); }
  bool start_object(std::size_t) override {
    if (mode() == kNormal && stack_.size() == 2 && key_ == "vocab" && stack_[1].is_model) {
      big_->has_vocab = true;
      stack_.push_back({nullptr, kVocab});
      return true;
    }
    if (mode() != kNormal) {  // an object inside vocab/merges: malformed, skip its content
      const Mode outer = mode();
      stack_.push_back({nullptr, kSkip});
      if (outer == kVocab) return vocab_id_outer();
      return outer == kSkip ? true : bad_merge("object");
    }
    const bool is_model = stack_.size() == 1 && key_ == "model";
    json* v = insert(json::object());
    stack_.push_back({v, kNormal, is_model});
    return true;
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (mode() == kNormal && stack_.size() == 2 && key_ == "merges" && stack_[1].is_model) {
      big_->has_merges = true;
      stack_.push_back({nullptr, kMerges});
      return true;
    }
    if (mode() == kMerges) {
      pair_.clear();
      stack_.push_back({nullptr, kMergePair});
      return true;
    }
    if (mode() != kNormal) {
      const Mode outer = mode();
      stack_.push_back({nullptr, kSkip});
      if (outer == kVocab) return vocab_id_outer();
      return outer == kSkip ? true : bad_merge("nested array");
    }
    json* v = insert(json::array());
    stack_.push_back({v, kNormal});
    return true;
  }
  bool end_array() override {
    if (mode() == kMergePair) {
      if (pair_.size() == 2) {
        big_->merge_pairs.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      } else {
        bad_merge("array of " + std::to_string(pair_.size()) + " strings");
      }
    }
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception&) override {
    error = "invalid JSON at byte " + std::to_string(pos);
    return false;
  }

 private:
  enum Mode { kNormal, kVocab, kMerges, kMergePair, kSkip };
  struct Frame {
    json* container;
    Mode mode;
    bool is_model = false;
  };
  Mode mode() const { return stack_.empty() ? kNormal : stack_.back().mode; }

  bool vocab_id(int64_t id) {
    big_->vocab.emplace_back(std::move(key_), id);
    return true;
  }
  bool vocab_id_outer() { return vocab_id(-1); }  // a container as a vocab value: bad id
  bool bad_merge(const std::string& what) {
    if (big_->bad_merge.empty()) big_->bad_merge = what;
    return true;
  }
  // Places v in the current container (or as the root) and returns where it now lives.
  json* insert(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json* c = stack_.back().container;
    if (c->is_array()) {
      c->push_back(std::move(v));
      return &c->back();
    }
    json& slot = (*c)[key_];
    slot = std::move(v);
    return &slot;
  }
  bool value(json v) {
    switch (mode()) {
      case kVocab:
        return vocab_id(-1);
      case kMerges:
        return bad_merge(v.dump());
      case kMergePair:
        return bad_merge("non-string in a merge pair");
      case kSkip:
        return true;
      default:
        insert(std::move(v));
        return true;
    }
  }

  BigParts* big_;
  std::vector<Frame> stack_;
  std::string key_;
  std::vector<std::string> pair_;
};

Result<json> read_tokenizer_json(const std::string& path, BigParts* big) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error("tokenizer.json", "cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  TokenizerJsonSax sax(big);
  const bool ok = json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true);
  if (!ok) {
    return Status::error("tokenizer.json",
                         path + ": " + (sax.error.empty() ? "invalid JSON" : sax.error));
  }
  return std::move(sax.root);
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

Result<std::unique_ptr<Tokenizer>> build(const json& root, const json& config, BigParts& big) {
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
    return Status::error("tokenizer.json", "missing \"model\"");
  }
  const json& model = root["model"];
  std::string type = model.value("type", std::string());
  if (type.empty() && big.has_merges) type = "BPE";
  if (type == "WordPiece") return build_wordpiece_tokenizer(root, std::move(big.vocab));
  if (type != "BPE") {
    return Status::error("tokenizer.json",
                         "unsupported model type '" + type + "' (BPE and WordPiece are supported)");
  }
  if (!big.has_vocab) {
    return Status::error("tokenizer.json", "BPE model without a \"vocab\" object");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() &&
        !model[key].get_ref<const std::string&>().empty()) {
      return Status::error("tokenizer.json", std::string(key) + " is not supported");
    }
  }

  auto tok = std::make_unique<ModelTokenizer>();
  BpeModel::Options opts;
  opts.byte_fallback = model.value("byte_fallback", false);
  opts.ignore_merges = model.value("ignore_merges", false);
  opts.fuse_unk = model.value("fuse_unk", false);

  Vocab& vocab = tok->vocab;
  vocab.text_to_id.reserve(big.vocab.size() + 1024);
  for (auto& [text, id] : big.vocab) {
    if (id < 0 || id > INT32_MAX) {
      return Status::error("tokenizer.json", "vocab entry '" + text + "' has a bad id");
    }
    TokenKind kind = TokenKind::kNormal;
    if (opts.byte_fallback && parse_byte_token(text)) kind = TokenKind::kByte;
    vocab.set(static_cast<int32_t>(id), std::move(text), kind);
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    opts.unk_id = vocab.find(model["unk_token"].get<std::string>());
  }

  // Added tokens: registered in the vocabulary and cut out of the text before the model runs.
  static const json kEmptyArray = json::array();
  const json& added_json = root.contains("added_tokens") ? root["added_tokens"] : kEmptyArray;
  for (const auto& a : added_json) {
    SLUICE_ASSIGN_OR_RETURN(const AddedToken t, added_token_from_json(a));
    vocab.set(t.id, t.content, t.special ? TokenKind::kControl : TokenKind::kUserDefined);
    tok->has_normalized_added = tok->has_normalized_added || t.normalized;
    tok->added.add(t);
  }

  if (!big.bad_merge.empty()) {
    return Status::error("tokenizer.json", "bad merge " + big.bad_merge);
  }
  SLUICE_ASSIGN_OR_RETURN(tok->bpe,
                          BpeModel::create(vocab, big.merge_pairs, opts, /*strict=*/true));

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
  BigParts big;
  SLUICE_ASSIGN_OR_RETURN(json root, read_tokenizer_json(path, &big));
  json config = json::object();
  const auto cfg_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) {
    auto cfg = read_json(cfg_path.string(), "tokenizer_config.json");
    if (!cfg) return cfg.status();
    if (cfg->is_object()) config = std::move(cfg.value());
  }
  Result<std::unique_ptr<Tokenizer>> tok = Status::error("tokenizer.json", "not loaded");
  try {
    tok = build(root, config, big);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong JSON type somewhere: report it instead of crashing.
    tok = Status::error("tokenizer.json", std::string("malformed: ") + e.what());
  }
  if (!tok) {
    // "[tokenizer.json] what" -> "[<path>] what"
    const std::string& msg = tok.error();
    const size_t close = msg.find("] ");
    return Status::error(path, close == std::string::npos ? msg : msg.substr(close + 2));
  }
  return tok;
}

}  // namespace sluice
