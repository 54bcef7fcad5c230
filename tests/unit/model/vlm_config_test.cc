// The language model of vision-language checkpoints from their config.json: the published files
// in tests/data/hf_configs/ (expected values as transformers 5.24's AutoConfig reads them), the
// forms transformers 5 saves, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/arch/arch_spec.h"
#include "model/model_config.h"

namespace sluice {
namespace {

nlohmann::json published(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/data/hf_configs/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

ModelConfig parse(const nlohmann::json& j) {
  auto c = config_from_hf_json(j, "config.json");
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? *c : ModelConfig{};
}

std::array<int32_t, 4> sections(int32_t t, int32_t h, int32_t w) {
  return {t, h, w, 0};
}

TEST(VlmConfig, Gemma3PublishedTextConfigTakesTransformersDefaults) {
  // text_config names six keys; Gemma3TextConfig gives vocab 262208, 8 heads, 4 kv heads,
  // head_dim 256, query_pre_attn_scalar 256, RoPE bases 1e6 / 1e4 and a tied head.
  const ModelConfig c = parse(published("gemma-3-4b-it.json"));
  EXPECT_EQ(c.arch, &gemma3_arch());
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 10240);
  EXPECT_EQ(c.num_layers, 34);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  EXPECT_FLOAT_EQ(c.rope_theta_local, 1e4f);
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_FLOAT_EQ(c.rope_scaling.factor, 8.0f);
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(c.sliding_window_pattern, 6);
  EXPECT_FLOAT_EQ(c.query_scale, 1.0f / 16.0f);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_EQ(c.num_deepstack_layers, 0);
}

TEST(VlmConfig, Gemma3With27BsQueryScalar) {
  const ModelConfig c = parse(published("gemma-3-27b-it.json"));
  EXPECT_EQ(c.num_layers, 62);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 16);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_FLOAT_EQ(c.query_scale, 1.0f / std::sqrt(168.0f));
}

TEST(VlmConfig, Qwen2VLTopLevelTextSettings) {
  const ModelConfig c = parse(published("qwen2-vl-2b-instruct.json"));
  EXPECT_EQ(c.arch, &qwen2vl_arch());
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.hidden_size, 1536);
  EXPECT_EQ(c.num_layers, 28);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.rope_scaling.type.empty());  // "mrope" is plain RoPE per section
  EXPECT_EQ(c.rope_sections, sections(16, 24, 24));
  EXPECT_FALSE(c.rope_sections_interleaved);
  EXPECT_EQ(c.num_deepstack_layers, 0);
}

TEST(VlmConfig, Qwen25VLTopLevelTextSettings) {
  const ModelConfig c = parse(published("qwen2.5-vl-7b-instruct.json"));
  EXPECT_EQ(c.arch, &qwen2vl_arch());
  EXPECT_EQ(c.vocab_size, 152064);
  EXPECT_EQ(c.hidden_size, 3584);
  EXPECT_EQ(c.intermediate_size, 18944);
  EXPECT_EQ(c.num_heads, 28);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.max_position_embeddings, 128000);
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_sections, sections(16, 24, 24));
}

TEST(VlmConfig, Qwen25VLAsTransformers5SavesIt) {
  // Nested text_config, rope_parameters with the "mrope" type kept beside rope_type, head_dim
  // and attention_bias moved to the outer config (as AutoConfig.save_pretrained writes).
  const nlohmann::json j = nlohmann::json::parse(R"({
    "architectures": ["Qwen2_5_VLForConditionalGeneration"], "attention_bias": true,
    "head_dim": 64, "model_type": "qwen2_5_vl", "tie_word_embeddings": false,
    "text_config": {"hidden_size": 256, "intermediate_size": 512, "max_position_embeddings": 4096,
      "model_type": "qwen2_5_vl_text", "num_attention_heads": 4, "num_hidden_layers": 2,
      "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "vocab_size": 151669,
      "rope_parameters": {"mrope_section": [8, 12, 12], "rope_theta": 1000000.0,
                          "rope_type": "default", "type": "mrope"}}})");
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.arch, &qwen2vl_arch());
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.vocab_size, 151669);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_EQ(c.rope_sections, sections(8, 12, 12));
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
}

TEST(VlmConfig, Qwen3VLNestedInterleavedWithDeepstack) {
  const ModelConfig c = parse(published("qwen3-vl-4b-instruct.json"));
  EXPECT_EQ(c.arch, &qwen3vl_arch());
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 9728);
  EXPECT_EQ(c.num_layers, 36);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_position_embeddings, 262144);
  EXPECT_FLOAT_EQ(c.rope_theta, 5e6f);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_sections, sections(24, 20, 20));
  EXPECT_TRUE(c.rope_sections_interleaved);
  EXPECT_EQ(c.num_deepstack_layers, 3);  // deepstack_visual_indexes [5, 11, 17]
  EXPECT_EQ(c.image_embedding_width(), 2560 * 4);
}

TEST(VlmConfig, Qwen3VLMoe) {
  const ModelConfig c = parse(published("qwen3-vl-30b-a3b-instruct.json"));
  EXPECT_EQ(c.arch, &qwen3vlmoe_arch());
  EXPECT_EQ(c.num_experts, 128);
  EXPECT_EQ(c.num_experts_used, 8);
  EXPECT_EQ(c.expert_intermediate_size, 768);
  EXPECT_EQ(c.num_layers, 48);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_sections, sections(24, 20, 20));
  EXPECT_TRUE(c.rope_sections_interleaved);
  EXPECT_EQ(c.num_deepstack_layers, 3);
}

TEST(VlmConfig, Qwen3VLMoeAsTransformers5SavesIt) {
  // transformers 5 writes num_experts as num_local_experts (its attribute_map) and rope_parameters.
  nlohmann::json j = published("qwen3-vl-30b-a3b-instruct.json");
  nlohmann::json& t = j["text_config"];
  t["num_local_experts"] = 64;
  t.erase("num_experts");
  t["rope_parameters"] = {{"mrope_interleaved", true},
                          {"mrope_section", {16, 24, 24}},
                          {"rope_theta", 1e6},
                          {"rope_type", "default"}};
  t.erase("rope_scaling");
  t.erase("rope_theta");
  j["vision_config"]["deepstack_visual_indexes"] = {4, 9};
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.num_experts, 64);
  EXPECT_EQ(c.rope_sections, sections(16, 24, 24));
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  EXPECT_EQ(c.num_deepstack_layers, 2);
}

TEST(VlmConfig, Gemma3RopeParametersPerLayerType) {
  // transformers 5's Gemma 3: one rope entry per layer type; no rope_local_base_freq.
  nlohmann::json j = published("gemma-3-4b-it.json");
  nlohmann::json& t = j["text_config"];
  t.erase("rope_scaling");
  t["rope_parameters"] = {
      {"full_attention", {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 2e6}}},
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 20000.0}}}};
  const ModelConfig c = parse(j);
  EXPECT_FLOAT_EQ(c.rope_theta, 2e6f);
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_FLOAT_EQ(c.rope_scaling.factor, 4.0f);
  EXPECT_FLOAT_EQ(c.rope_theta_local, 20000.0f);
}

TEST(VlmConfig, DefaultsWhereTheFileIsSilent) {
  // No mrope_section: transformers' modeling defaults; no vision_config: three DeepStack mergers;
  // no tie_word_embeddings anywhere: the outer config class's default (False for Qwen).
  nlohmann::json j = published("qwen3-vl-4b-instruct.json");
  j.erase("vision_config");
  j.erase("tie_word_embeddings");
  j["text_config"].erase("tie_word_embeddings");
  j["text_config"]["rope_scaling"].erase("mrope_section");
  ModelConfig c = parse(j);
  EXPECT_EQ(c.rope_sections, sections(24, 20, 20));
  EXPECT_EQ(c.num_deepstack_layers, 3);
  EXPECT_FALSE(c.tie_word_embeddings);

  nlohmann::json q = published("qwen2.5-vl-7b-instruct.json");
  q.erase("rope_scaling");
  c = parse(q);
  EXPECT_EQ(c.rope_sections, sections(16, 24, 24));
}

TEST(VlmConfig, OuterTieWordEmbeddingsWins) {
  nlohmann::json j = published("qwen3-vl-4b-instruct.json");
  j["tie_word_embeddings"] = false;  // text_config says true
  EXPECT_FALSE(parse(j).tie_word_embeddings);
  j.erase("tie_word_embeddings");
  EXPECT_TRUE(parse(j).tie_word_embeddings);
}

TEST(VlmConfig, ClearErrors) {
  // An unsupported vision-language model: one error naming the supported ones.
  const nlohmann::json llava = {{"architectures", {"LlavaForConditionalGeneration"}},
                                {"model_type", "llava"},
                                {"text_config", {{"model_type", "llama"}}},
                                {"vision_config", {{"model_type", "clip_vision_model"}}}};
  auto c = config_from_hf_json(llava, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("unsupported vision-language model 'LlavaForConditionalGeneration'"),
            std::string::npos)
      << c.error();
  for (const char* t : {"gemma3", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"})
    EXPECT_NE(c.error().find(t), std::string::npos) << t << ": " << c.error();
  nlohmann::json mistral3 = {{"model_type", "mistral3"},
                             {"vision_config", nlohmann::json::object()}};
  c = config_from_hf_json(mistral3, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("unsupported vision-language model 'mistral3'"), std::string::npos)
      << c.error();

  nlohmann::json j = published("qwen3-vl-4b-instruct.json");
  j["text_config"]["rope_scaling"]["mrope_section"] = {24, 20, 20, 1, 1};
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("mrope_section"), std::string::npos) << c.error();
  j["text_config"]["rope_scaling"]["mrope_section"] = {48, 20, 20};  // 88 pairs > 64
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("M-RoPE sections"), std::string::npos) << c.error();

  j = published("qwen3-vl-4b-instruct.json");
  j["vision_config"]["deepstack_visual_indexes"] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                                    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                                    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36};
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("deepstack"), std::string::npos) << c.error();

  // "mrope" is M-RoPE's type only: a text model with it is refused as before.
  j = {{"architectures", {"Qwen2ForCausalLM"}},
       {"model_type", "qwen2"},
       {"vocab_size", 100},
       {"hidden_size", 64},
       {"intermediate_size", 128},
       {"num_hidden_layers", 1},
       {"num_attention_heads", 2},
       {"rope_scaling", {{"type", "mrope"}}}};
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("unsupported rope_scaling type 'mrope'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
