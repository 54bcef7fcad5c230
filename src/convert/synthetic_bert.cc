#include "convert/synthetic_bert.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/half.h"
#include "convert/synthetic_model.h"
#include "formats/safetensors.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

struct BertShape {
  int64_t vocab = 0, hidden = 0, intermediate = 0, layers = 0, heads = 0, positions = 512;
};

std::vector<uint8_t> tensor_bytes(const std::vector<float>& v, const std::string& dtype) {
  const size_t width = dtype == "F32" ? 4 : 2;
  std::vector<uint8_t> b(v.size() * width);
  if (width == 4) {
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  auto* h = reinterpret_cast<uint16_t*>(b.data());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = dtype == "F16" ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
  return b;
}

// The tensors in Hugging Face's names, "bert." prefixed for the classifier as transformers
// saves task models; values from synthetic_tensor (std 1 embeddings, 1/sqrt(fan_in) matrices).
std::vector<TensorSpec> bert_tensors(const BertShape& s, bool classifier) {
  using K = TensorSpec::Kind;
  const std::string p = classifier ? "bert." : "";
  const int64_t H = s.hidden, I = s.intermediate;
  std::vector<TensorSpec> t = {
      {p + "embeddings.word_embeddings.weight", K::kEmbedding, s.vocab, H},
      {p + "embeddings.position_embeddings.weight", K::kEmbedding, s.positions, H},
      {p + "embeddings.token_type_embeddings.weight", K::kEmbedding, 2, H},
      {p + "embeddings.LayerNorm.weight", K::kNorm, 1, H},
      {p + "embeddings.LayerNorm.bias", K::kBias, 1, H}};
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
      t.push_back({l + m + ".weight", K::kMatrix, H, H});
      t.push_back({l + m + ".bias", K::kBias, 1, H});
    }
    t.push_back({l + "attention.output.LayerNorm.weight", K::kNorm, 1, H});
    t.push_back({l + "attention.output.LayerNorm.bias", K::kBias, 1, H});
    t.push_back({l + "intermediate.dense.weight", K::kMatrix, I, H});
    t.push_back({l + "intermediate.dense.bias", K::kBias, 1, I});
    t.push_back({l + "output.dense.weight", K::kMatrix, H, I});
    t.push_back({l + "output.dense.bias", K::kBias, 1, H});
    t.push_back({l + "output.LayerNorm.weight", K::kNorm, 1, H});
    t.push_back({l + "output.LayerNorm.bias", K::kBias, 1, H});
  }
  if (classifier) {
    t.push_back({"bert.pooler.dense.weight", K::kMatrix, H, H});
    t.push_back({"bert.pooler.dense.bias", K::kBias, 1, H});
    t.push_back({"classifier.weight", K::kMatrix, 1, H});
    t.push_back({"classifier.bias", K::kBias, 1, 1});
  }
  return t;
}

nlohmann::json config_json(const BertShape& s, const BertModelOptions& o) {
  nlohmann::json j = {
      {"architectures", {o.classifier ? "BertForSequenceClassification" : "BertModel"}},
      {"model_type", "bert"},
      {"vocab_size", s.vocab},
      {"hidden_size", s.hidden},
      {"intermediate_size", s.intermediate},
      {"num_hidden_layers", s.layers},
      {"num_attention_heads", s.heads},
      {"max_position_embeddings", s.positions},
      {"type_vocab_size", 2},
      {"layer_norm_eps", 1e-12},
      {"hidden_act", "gelu"},
      {"position_embedding_type", "absolute"},
      {"pad_token_id", 0},
      {"torch_dtype", o.dtype == "F32"   ? "float32"
                      : o.dtype == "F16" ? "float16"
                                         : "bfloat16"}};
  if (o.classifier) {
    j["id2label"] = {{"0", "LABEL_0"}};
    j["label2id"] = {{"LABEL_0", 0}};
  }
  return j;
}

Status write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream f(path);
  f << j.dump(2) << "\n";
  if (!f) return Status::error("make-model", path + ": cannot write");
  return Status::ok();
}

// sentence-transformers' module files of an embedding model: mean pooling, then Normalize.
Status write_sentence_transformers_modules(const BertShape& s, const std::string& out) {
  const char* kType = "sentence_transformers.models.";
  nlohmann::json mods = nlohmann::json::array();
  const char* names[][2] = {
      {"", "Transformer"}, {"1_Pooling", "Pooling"}, {"2_Normalize", "Normalize"}};
  for (int i = 0; i < 3; ++i)
    mods.push_back({{"idx", i},
                    {"name", std::to_string(i)},
                    {"path", names[i][0]},
                    {"type", std::string(kType) + names[i][1]}});
  SLUICE_RETURN_IF_ERROR(write_json(out + "/modules.json", mods));
  std::error_code ec;
  fs::create_directories(out + "/1_Pooling", ec);
  fs::create_directories(out + "/2_Normalize", ec);
  if (ec) return Status::error("make-model", out + ": " + ec.message());
  SLUICE_RETURN_IF_ERROR(
      write_json(out + "/1_Pooling/config.json", {{"word_embedding_dimension", s.hidden},
                                                  {"pooling_mode_cls_token", false},
                                                  {"pooling_mode_mean_tokens", true},
                                                  {"pooling_mode_max_tokens", false},
                                                  {"pooling_mode_mean_sqrt_len_tokens", false}}));
  return write_json(out + "/sentence_bert_config.json",
                    {{"max_seq_length", 256}, {"do_lower_case", false}});
}

}  // namespace

Status write_synthetic_bert(const BertModelOptions& o, const std::string& out) {
  if (o.dtype != "F32" && o.dtype != "BF16" && o.dtype != "F16")
    return Status::error("make-model", "--dtype must be F32, BF16 or F16");
  if (fs::path(o.tokenizer_path).filename() != "tokenizer.json")
    return Status::error("make-model", "bert needs a tokenizer.json (a BERT WordPiece tokenizer)");
  BertShape s;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, load_tokenizer_json(o.tokenizer_path));
  s.vocab = tok->vocab_size();
  if (o.preset == "tiny") {
    s.hidden = 64, s.intermediate = 128, s.layers = 2, s.heads = 4;
  } else if (o.preset == "minilm-l6") {
    s.hidden = 384, s.intermediate = 1536, s.layers = 6, s.heads = 12;
  } else {
    return Status::error("make-model",
                         "unknown preset '" + o.preset + "' for bert (tiny, minilm-l6)");
  }
  if (o.layers > 0) s.layers = o.layers;
  ModelConfig scale;  // what synthetic_tensor reads: the width and depth
  scale.hidden_size = s.hidden;
  scale.num_layers = s.layers;
  std::vector<SafetensorsWriteTensor> tensors;
  for (const TensorSpec& t : bert_tensors(s, o.classifier)) {
    std::vector<float> v = synthetic_tensor(t, scale, o.seed);
    if (t.name == "classifier.weight")  // logits of std ~2: scores spread, not all near 0.5
      for (float& x : v) x *= 4.0f;
    std::vector<int64_t> shape = t.rows > 1 || t.kind == TensorSpec::Kind::kMatrix
                                     ? std::vector<int64_t>{t.rows, t.cols}
                                     : std::vector<int64_t>{t.cols};
    tensors.push_back({t.name, o.dtype, shape, tensor_bytes(v, o.dtype)});
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Status::error("make-model", out + ": " + ec.message());
  SLUICE_RETURN_IF_ERROR(
      write_safetensors(out + "/model.safetensors", tensors, {{"format", "pt"}}));
  SLUICE_RETURN_IF_ERROR(write_json(out + "/config.json", config_json(s, o)));
  if (!o.classifier) SLUICE_RETURN_IF_ERROR(write_sentence_transformers_modules(s, out));
  const fs::path tok_dir = fs::path(o.tokenizer_path).parent_path();
  for (const char* f :
       {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"}) {
    if (!fs::exists(tok_dir / f)) continue;
    fs::copy_file(tok_dir / f, fs::path(out) / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::error("make-model", std::string("copying ") + f + ": " + ec.message());
  }
  return Status::ok();
}

}  // namespace sluice
