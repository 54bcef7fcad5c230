// EncoderModel::load: config.json, the sentence-transformers module files, tokenizer, weights.
#include "model/encoder_model.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/arch/encoder_arch.h"
#include "model/load/weight_source.h"

namespace sluice {

struct EncoderModel::Files {
  std::unique_ptr<WeightSource> source;
};

EncoderModel::EncoderModel() = default;
EncoderModel::~EncoderModel() = default;

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}

Result<nlohmann::json> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::error("encoder", path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("encoder", path + ": invalid JSON");
  return j;
}

const EncoderArchSpec* arch_of(const nlohmann::json& cfg) {
  const std::string model_type = cfg.value("model_type", "");
  if (auto it = cfg.find("architectures"); it != cfg.end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_string())
        if (const EncoderArchSpec* s = find_encoder_arch(a.get<std::string>(), model_type))
          return s;
  return find_encoder_arch("", model_type);
}

Result<int64_t> positive(const nlohmann::json& j, const char* key, int64_t fallback,
                         const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (fallback > 0) return fallback;
    return Status::error("config", where + ": missing required field '" + key + "'");
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    return Status::error("config", where + ": field '" + key + "' must be a positive integer");
  return it->get<int64_t>();
}

Result<EncoderConfig> config_from_json(const nlohmann::json& j, const std::string& where) {
  EncoderConfig c;
  c.arch = arch_of(j);
  SLUICE_ASSIGN_OR_RETURN(c.vocab_size, positive(j, "vocab_size", 0, where));
  SLUICE_ASSIGN_OR_RETURN(c.hidden_size, positive(j, "hidden_size", 0, where));
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, positive(j, "intermediate_size", 0, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, positive(j, "num_hidden_layers", 0, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, positive(j, "num_attention_heads", 0, where));
  SLUICE_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          positive(j, "max_position_embeddings", 512, where));
  SLUICE_ASSIGN_OR_RETURN(c.type_vocab_size, positive(j, "type_vocab_size", 2, where));
  c.layer_norm_eps = j.value("layer_norm_eps", 1e-12f);
  if (c.hidden_size % c.num_heads != 0)
    return Status::error("config",
                         where + ": hidden_size must be a multiple of num_attention_heads");
  c.head_dim = c.hidden_size / c.num_heads;
  if (const std::string act = j.value("hidden_act", "gelu"); act != "gelu")
    return Status::error("config", where + ": hidden_act '" + act + "' is not supported (gelu)");
  if (const std::string pe = j.value("position_embedding_type", "absolute"); pe != "absolute")
    return Status::error("config",
                         where + ": position_embedding_type '" + pe + "' is not supported");
  c.max_tokens = c.max_position_embeddings;
  return c;
}

// modules.json (sentence-transformers): the pooling module's config and a Normalize module.
// Without it: CLS pooling, normalized (vLLM's default for BERT embedding models).
Status read_modules(const std::string& dir, EncoderConfig& c) {
  if (!exists(dir + "/modules.json")) {
    c.pooling = Pooling::kCls;
    c.normalize = true;
    return Status::ok();
  }
  SLUICE_ASSIGN_OR_RETURN(nlohmann::json mods, read_json(dir + "/modules.json"));
  if (!mods.is_array()) return Status::error("encoder", dir + "/modules.json: not a list");
  c.pooling = Pooling::kCls;
  c.normalize = false;
  for (const auto& m : mods) {
    const std::string type = m.is_object() ? m.value("type", "") : "";
    const std::string kind = type.substr(type.rfind('.') + 1);
    if (kind == "Transformer") continue;
    if (kind == "Normalize") {
      c.normalize = true;
    } else if (kind == "Pooling") {
      const std::string path = dir + "/" + m.value("path", "") + "/config.json";
      SLUICE_ASSIGN_OR_RETURN(nlohmann::json pc, read_json(path));
      const bool mean = pc.value("pooling_mode_mean_tokens", false);
      const bool cls = pc.value("pooling_mode_cls_token", false);
      const bool last = pc.value("pooling_mode_lasttoken", false);
      if (pc.value("pooling_mode_max_tokens", false) ||
          pc.value("pooling_mode_mean_sqrt_len_tokens", false) ||
          pc.value("pooling_mode_weightedmean_tokens", false) || mean + cls + last != 1)
        return Status::error("encoder", path +
                                            ": one of mean, cls or lasttoken pooling is "
                                            "supported (max, mean_sqrt_len, weighted are not)");
      c.pooling = mean ? Pooling::kMean : cls ? Pooling::kCls : Pooling::kLast;
    } else {
      return Status::error("encoder", dir + "/modules.json: module '" + type +
                                          "' is not supported (Transformer, Pooling, Normalize)");
    }
  }
  if (exists(dir + "/sentence_bert_config.json")) {
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json sb, read_json(dir + "/sentence_bert_config.json"));
    if (auto it = sb.find("max_seq_length"); it != sb.end() && it->is_number_integer())
      c.max_tokens = std::clamp<int64_t>(it->get<int64_t>(), 1, c.max_position_embeddings);
  }
  return Status::ok();
}

// A *ForSequenceClassification config (a cross-encoder): the classifier head over the CLS row.
// One label only (vLLM's score API takes a single logit); the score is sigmoid(logit) unless
// sentence-transformers' activation_fn says Identity, as vLLM and CrossEncoder.predict do.
bool is_classifier_config(const nlohmann::json& j) {
  bool classifier = false;
  if (auto it = j.find("architectures"); it != j.end() && it->is_array())
    for (const auto& a : *it)
      classifier |= a.is_string() && a.get<std::string>().ends_with("ForSequenceClassification");
  return classifier;
}

Status read_classifier_head(const nlohmann::json& j, EncoderConfig& c, const std::string& where) {
  if (!is_classifier_config(j)) return Status::ok();
  c.head = EncoderHead::kClassifier;
  c.pooling = Pooling::kCls;
  c.normalize = false;
  int64_t labels = 2;  // transformers: len(id2label), else num_labels, else 2
  if (auto it = j.find("id2label"); it != j.end() && it->is_object())
    labels = static_cast<int64_t>(it->size());
  else if (auto n = j.find("num_labels"); n != j.end() && n->is_number_integer())
    labels = n->get<int64_t>();
  if (labels != 1)
    return Status::error("config", where + ": a sequence classifier with " +
                                       std::to_string(labels) +
                                       " labels; rerank needs a cross-encoder with one label "
                                       "(num_labels 1, one relevance logit)");
  c.num_labels = 1;
  c.score_sigmoid = true;
  if (auto st = j.find("sentence_transformers"); st != j.end() && st->is_object()) {
    const std::string fn = st->value("activation_fn", "");
    const std::string kind = fn.substr(fn.rfind('.') + 1);
    if (kind == "Identity")
      c.score_sigmoid = false;
    else if (!fn.empty() && kind != "Sigmoid")
      return Status::error("config", where + ": sentence_transformers.activation_fn '" + fn +
                                         "' is not supported (Sigmoid or Identity)");
  }
  return Status::ok();
}

}  // namespace

bool EncoderModel::is_encoder_dir(const std::string& path) {
  if (!exists(path + "/config.json")) return false;
  auto cfg = read_json(path + "/config.json");
  return cfg.ok() && arch_of(*cfg) != nullptr;
}

bool EncoderModel::is_cross_encoder_dir(const std::string& path) {
  auto cfg = read_json(path + "/config.json");
  return cfg.ok() && arch_of(*cfg) != nullptr && is_classifier_config(*cfg);
}

Result<std::unique_ptr<EncoderModel>> EncoderModel::load(const std::string& path) {
  std::unique_ptr<EncoderModel> m(new EncoderModel());
  m->path_ = path;
  m->files_ = std::make_unique<Files>();
  SLUICE_ASSIGN_OR_RETURN(nlohmann::json cfg, read_json(path + "/config.json"));
  SLUICE_ASSIGN_OR_RETURN(m->config_, config_from_json(cfg, path + "/config.json"));
  if (!m->config_.arch)
    return Status::error("encoder", path + "/config.json: not an encoder architecture");
  SLUICE_RETURN_IF_ERROR(read_classifier_head(cfg, m->config_, path + "/config.json"));
  if (m->config_.head == EncoderHead::kPooled)
    SLUICE_RETURN_IF_ERROR(read_modules(path, m->config_));
  SLUICE_ASSIGN_OR_RETURN(m->tokenizer_, load_tokenizer_json(path + "/tokenizer.json"));
  if (m->tokenizer_->vocab_size() > m->config_.vocab_size)
    return Status::error("encoder", path + ": tokenizer has " +
                                        std::to_string(m->tokenizer_->vocab_size()) +
                                        " tokens but the model's vocabulary is " +
                                        std::to_string(m->config_.vocab_size));
  SLUICE_ASSIGN_OR_RETURN(m->files_->source, make_safetensors_weight_source(path, cfg));
  SLUICE_RETURN_IF_ERROR(m->config_.arch->load(*m->files_->source, m->config_, m->weights_));
  return m;
}

}  // namespace sluice
