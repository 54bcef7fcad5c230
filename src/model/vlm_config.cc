#include "model/vlm_config.h"

#include <vector>

namespace sluice {

namespace {

const std::vector<VlmFamily>& vlm_families() {
  static const std::vector<VlmFamily> families = {
      {"gemma3", "Gemma3ForConditionalGeneration", "gemma3_text", false, true},
      {"qwen2_vl", "Qwen2VLForConditionalGeneration", "qwen2_vl_text", true, false},
      {"qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration", "qwen2_5_vl_text", true, false},
      {"qwen3_vl", "Qwen3VLForConditionalGeneration", "qwen3_vl_text", false, false},
      {"qwen3_vl_moe", "Qwen3VLMoeForConditionalGeneration", "qwen3_vl_moe_text", false, false},
  };
  return families;
}

// transformers 5's text config classes (configuration_<family>.py): the values a key takes
// when config.json leaves it out (Gemma 3's published text_config names only a few).
nlohmann::json text_defaults(const std::string& text_model_type) {
  using json = nlohmann::json;
  if (text_model_type == "gemma3_text")
    return json{{"vocab_size", 262208},
                {"hidden_size", 2304},
                {"intermediate_size", 9216},
                {"num_hidden_layers", 26},
                {"num_attention_heads", 8},
                {"num_key_value_heads", 4},
                {"head_dim", 256},
                {"max_position_embeddings", 131072},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", 1000000.0},
                {"rope_local_base_freq", 10000.0},
                {"query_pre_attn_scalar", 256},
                {"sliding_window", 4096},
                {"attention_bias", false}};
  if (text_model_type == "qwen2_vl_text" || text_model_type == "qwen2_5_vl_text")
    return json{{"vocab_size", 152064},
                {"hidden_size", 8192},
                {"intermediate_size", 29568},
                {"num_hidden_layers", 80},
                {"num_attention_heads", 64},
                {"num_key_value_heads", 8},
                {"max_position_embeddings", 32768},
                {"rms_norm_eps", 1e-5},
                {"rope_theta", 1000000.0}};
  if (text_model_type == "qwen3_vl_text")
    return json{{"vocab_size", 151936},
                {"hidden_size", 4096},
                {"intermediate_size", 22016},
                {"num_hidden_layers", 32},
                {"num_attention_heads", 32},
                {"num_key_value_heads", 32},
                {"head_dim", 128},
                {"max_position_embeddings", 128000},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", 500000.0},
                {"attention_bias", false}};
  if (text_model_type == "qwen3_vl_moe_text")
    return json{{"vocab_size", 151936},
                {"hidden_size", 2048},
                {"intermediate_size", 5632},
                {"num_hidden_layers", 24},
                {"num_attention_heads", 16},
                {"num_key_value_heads", 16},
                {"max_position_embeddings", 128000},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", 500000.0},
                {"attention_bias", false},
                {"num_experts", 60},
                {"num_experts_per_tok", 4},
                {"moe_intermediate_size", 1408},
                {"decoder_sparse_step", 1},
                {"mlp_only_layers", json::array()}};
  return json::object();
}

// Keys transformers 5 saves under another name (its attribute_map), and the name read here.
std::string canonical_key(const std::string& text_model_type, const std::string& key) {
  if (text_model_type == "qwen3_vl_moe_text" && key == "num_local_experts") return "num_experts";
  return key;
}

bool has_value(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && !j[key].is_null();
}

}  // namespace

const VlmFamily* find_vlm_family(const std::string& architecture, const std::string& model_type) {
  for (const VlmFamily& f : vlm_families())
    if (f.architecture == architecture) return &f;
  if (!architecture.empty() && architecture.find("ForConditionalGeneration") == std::string::npos)
    return nullptr;  // a text architecture names the model, whatever its model_type
  for (const VlmFamily& f : vlm_families())
    if (f.model_type == model_type) return &f;
  return nullptr;
}

bool looks_multimodal(const nlohmann::json& config, const std::string& architecture) {
  return has_value(config, "vision_config") || has_value(config, "text_config") ||
         architecture.find("ForConditionalGeneration") != std::string::npos;
}

std::string supported_vlm_types() {
  std::string out;
  for (const VlmFamily& f : vlm_families()) out += (out.empty() ? "" : ", ") + f.model_type;
  return out + ", qwen3_5, qwen3_5_moe";
}

nlohmann::json vlm_text_config(const nlohmann::json& config, const VlmFamily& family) {
  const bool nested = config.contains("text_config") && config["text_config"].is_object();
  const nlohmann::json& given = nested ? config["text_config"] : config;
  nlohmann::json text = text_defaults(family.text_model_type);
  for (auto it = given.begin(); it != given.end(); ++it)
    if (!it.value().is_null() && it.key() != "vision_config" && it.key() != "text_config")
      text[canonical_key(family.text_model_type, it.key())] = it.value();
  // transformers 5 ties by the outer config; older files may say so in text_config only.
  if (has_value(config, "tie_word_embeddings"))
    text["tie_word_embeddings"] = config["tie_word_embeddings"];
  else if (!has_value(text, "tie_word_embeddings"))
    text["tie_word_embeddings"] = family.tie_word_embeddings;
  return text;
}

Result<int64_t> vlm_deepstack_layers(const nlohmann::json& config, const std::string& where) {
  const nlohmann::json* v = has_value(config, "vision_config") ? &config["vision_config"] : nullptr;
  if (!v || !has_value(*v, "deepstack_visual_indexes")) return 3;  // (8, 16, 24)
  const nlohmann::json& ix = (*v)["deepstack_visual_indexes"];
  if (!ix.is_array())
    return Status::error("config",
                         where + ": vision_config.deepstack_visual_indexes is not a list");
  return static_cast<int64_t>(ix.size());
}

}  // namespace sluice
