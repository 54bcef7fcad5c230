// WordPieceTokenizer from tokenizer.json (model type WordPiece: BertNormalizer, BertPreTokenizer,
// TemplateProcessing / BertProcessing, WordPiece decoder) or from a bare BERT vocab.txt.
#include <climits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/added_token_json.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace sluice {
namespace {

using nlohmann::json;

Result<BertNormalizerOptions> parse_normalizer(const json& j) {
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type != "BertNormalizer") {
    return Status::error("tokenizer.json", "unsupported normalizer '" + type +
                                               "' for WordPiece (BertNormalizer expected)");
  }
  BertNormalizerOptions o;
  o.clean_text = j.value("clean_text", true);
  o.handle_chinese_chars = j.value("handle_chinese_chars", true);
  o.lowercase = j.value("lowercase", true);
  // strip_accents: null follows lowercase (as HF and BERT's uncased models).
  const json sa = j.value("strip_accents", json());
  o.strip_accents = sa.is_boolean() ? sa.get<bool>() : o.lowercase;
  return o;
}

Result<WordPieceDecoder> parse_decoder(const json& j) {
  WordPieceDecoder d;
  if (j.is_null()) {
    d.present = false;
    return d;
  }
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type != "WordPiece") {
    return Status::error("tokenizer.json",
                         "unsupported decoder '" + type + "' for WordPiece (WordPiece expected)");
  }
  d.prefix = j.value("prefix", std::string("##"));
  d.cleanup = j.value("cleanup", true);
  return d;
}

Status add_added_tokens(const json& added_json, WordPieceTokenizer* tok) {
  if (!added_json.is_array()) return Status::ok();
  for (const auto& a : added_json) {
    SLUICE_ASSIGN_OR_RETURN(const AddedToken t, added_token_from_json(a));
    tok->vocab.set(t.id, t.content, t.special ? TokenKind::kControl : TokenKind::kUserDefined);
    tok->has_normalized_added = tok->has_normalized_added || t.normalized;
    tok->added.add(t);
  }
  return Status::ok();
}

Result<json> read_json_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error(path.string(), "cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error(path.string(), "invalid JSON");
  return j;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> build_wordpiece_tokenizer(
    const json& root, std::vector<std::pair<std::string, int64_t>> vocab_entries) {
  const json& model = root["model"];
  auto tok = std::make_unique<WordPieceTokenizer>();
  tok->vocab.text_to_id.reserve(vocab_entries.size() + 64);
  for (auto& [text, id] : vocab_entries) {
    if (id < 0 || id > INT32_MAX) {
      return Status::error("tokenizer.json", "vocab entry '" + text + "' has a bad id");
    }
    tok->vocab.set(static_cast<int32_t>(id), std::move(text), TokenKind::kNormal);
  }
  if (tok->vocab.size() == 0) return Status::error("tokenizer.json", "WordPiece without a vocab");
  const std::string unk = model.value("unk_token", std::string("[UNK]"));
  const auto unk_id = tok->vocab.find(unk);
  if (!unk_id) return Status::error("tokenizer.json", "unk_token '" + unk + "' not in the vocab");
  tok->model.unk_id = *unk_id;
  tok->model.continuing_subword_prefix = model.value("continuing_subword_prefix", "##");
  const int64_t max_chars = model.value("max_input_chars_per_word", int64_t{100});
  if (max_chars < 0) return Status::error("tokenizer.json", "negative max_input_chars_per_word");
  tok->model.max_input_chars_per_word = static_cast<size_t>(max_chars);

  SLUICE_RETURN_IF_ERROR(add_added_tokens(root.value("added_tokens", json::array()), tok.get()));
  const json norm = root.value("normalizer", json());
  if (!norm.is_null()) {
    SLUICE_ASSIGN_OR_RETURN(tok->normalizer, parse_normalizer(norm));
  }
  const json pre = root.value("pre_tokenizer", json());
  if (!pre.is_object() || pre.value("type", std::string()) != "BertPreTokenizer") {
    return Status::error("tokenizer.json",
                         "unsupported pre_tokenizer for WordPiece (BertPreTokenizer expected)");
  }
  SLUICE_ASSIGN_OR_RETURN(
      tok->post_processor,
      SpecialTokensTemplate::from_json(root.value("post_processor", json()), tok->vocab));
  SLUICE_ASSIGN_OR_RETURN(tok->decoder, parse_decoder(root.value("decoder", json())));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer_vocab_txt(const std::string& path) {
  namespace fs = std::filesystem;
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error(path, "cannot open");
  json config = json::object();
  const fs::path cfg_path = fs::path(path).parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    SLUICE_ASSIGN_OR_RETURN(json cfg, read_json_file(cfg_path));
    if (cfg.is_object()) config = std::move(cfg);
  }
  auto tok = std::make_unique<WordPieceTokenizer>();
  int32_t id = 0;
  for (std::string line; std::getline(f, line); ++id) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    tok->vocab.set(id, line, TokenKind::kNormal);
  }
  if (id == 0) return Status::error(path, "empty vocabulary");
  auto name = [&](const char* key, const char* fallback) {
    const json& v = config.contains(key) ? config[key] : json();
    return v.is_string() ? v.get<std::string>() : std::string(fallback);
  };
  // BertTokenizerFast: the five special tokens, matched in the raw text.
  std::optional<int32_t> unk, cls, sep;
  for (auto [key, fallback] : {std::pair{"pad_token", "[PAD]"},
                               {"unk_token", "[UNK]"},
                               {"cls_token", "[CLS]"},
                               {"sep_token", "[SEP]"},
                               {"mask_token", "[MASK]"}}) {
    const std::string text = name(key, fallback);
    const auto tid = tok->vocab.find(text);
    if (!tid) continue;
    tok->vocab.set(*tid, text, TokenKind::kControl);
    tok->added.add(AddedToken{*tid, text, /*special=*/true});
    if (std::string_view(key) == "unk_token") unk = tid;
    if (std::string_view(key) == "cls_token") cls = tid;
    if (std::string_view(key) == "sep_token") sep = tid;
  }
  if (!unk || !cls || !sep) {
    return Status::error(path, "vocab.txt lacks the unknown, [CLS] or [SEP] token");
  }
  tok->model.unk_id = *unk;
  BertNormalizerOptions norm;
  norm.lowercase = config.value("do_lower_case", true);
  norm.handle_chinese_chars = config.value("tokenize_chinese_chars", true);
  const json sa = config.value("strip_accents", json());
  norm.strip_accents = sa.is_boolean() ? sa.get<bool>() : norm.lowercase;
  tok->normalizer = norm;
  tok->post_processor = SpecialTokensTemplate::bert(*cls, *sep);
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace sluice
