#include "model/model_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "model/arch/arch_spec.h"
#include "model/load/weight_source.h"

namespace sluice {
namespace {

nlohmann::json qwen3_json() {
  return nlohmann::json{{"architectures", {"Qwen3ForCausalLM"}},
                        {"model_type", "qwen3"},
                        {"vocab_size", 1000},
                        {"hidden_size", 256},
                        {"intermediate_size", 512},
                        {"num_hidden_layers", 2},
                        {"num_attention_heads", 4},
                        {"num_key_value_heads", 2},
                        {"head_dim", 64},
                        {"rms_norm_eps", 1e-6},
                        {"rope_theta", 1000000.0},
                        {"tie_word_embeddings", true}};
}

TEST(ModelConfig, ParsesQwen3) {
  auto c = config_from_hf_json(qwen3_json(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &qwen3_arch());
  EXPECT_TRUE(c->qk_norm);
  EXPECT_FALSE(c->attention_bias);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_FLOAT_EQ(c->rope_theta, 1e6f);
}

TEST(ModelConfig, ParsesQwen3MoeAndRefusesBadExpertCounts) {
  nlohmann::json j = qwen3_json();
  j["architectures"] = {"Qwen3MoeForCausalLM"};
  j["model_type"] = "qwen3_moe";
  j["num_experts"] = 8, j["num_experts_per_tok"] = 2, j["moe_intermediate_size"] = 128;
  j["norm_topk_prob"] = true;
  auto c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &qwen3_moe_arch());
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_EQ(c->num_experts_used, 2);
  EXPECT_EQ(c->expert_intermediate_size, 128);
  EXPECT_TRUE(c->norm_topk_prob && c->qk_norm);
  for (auto [key, value] : {std::pair<const char*, int>{"num_experts_per_tok", 9},
                            {"num_experts_per_tok", 0},
                            {"moe_intermediate_size", 0}}) {
    nlohmann::json bad = j;
    bad[key] = value;
    auto r = config_from_hf_json(bad, "config.json");
    ASSERT_FALSE(r.ok()) << key << "=" << value;
    EXPECT_NE(r.error().find("experts"), std::string::npos) << r.error();
  }
  nlohmann::json missing = j;
  missing.erase("num_experts");
  EXPECT_FALSE(config_from_hf_json(missing, "config.json").ok());
  nlohmann::json dense_layers = j;
  dense_layers["mlp_only_layers"] = {0};
  EXPECT_FALSE(config_from_hf_json(dense_layers, "config.json").ok());
}

TEST(ModelConfig, ParsesGemma3LocalAndGlobalLayers) {
  nlohmann::json j = qwen3_json();
  j["architectures"] = {"Gemma3ForCausalLM"};
  j["model_type"] = "gemma3_text";
  j["num_hidden_layers"] = 12;
  j["sliding_window"] = 512;
  j["rope_local_base_freq"] = 10000.0;
  j["query_pre_attn_scalar"] = 256;
  std::vector<std::string> types(12, "sliding_attention");
  types[5] = types[11] = "full_attention";
  j["layer_types"] = types;
  auto c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &gemma3_arch());
  EXPECT_EQ(c->sliding_window, 512);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(c->is_sliding(i), i != 5 && i != 11) << i;
  EXPECT_FLOAT_EQ(c->query_scale, 1.0f / 16.0f);
  EXPECT_FLOAT_EQ(c->rope_theta_local, 10000.0f);
  types[3] = "full_attention";  // not a regular pattern
  j["layer_types"] = types;
  EXPECT_FALSE(config_from_hf_json(j, "config.json").ok());
  j.erase("layer_types");
  j["final_logit_softcapping"] = 30.0;  // Gemma 2's
  EXPECT_FALSE(config_from_hf_json(j, "config.json").ok());
}

TEST(ModelConfig, Qwen2HasBiasesAndLlamaDefaultsHeadDim) {
  auto j = qwen3_json();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  auto c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->attention_bias);
  j["architectures"] = {"LlamaForCausalLM"};
  j.erase("head_dim");
  c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &llama_arch());
  EXPECT_EQ(c->head_dim, 64);  // hidden / heads
}

TEST(ModelConfig, ClearErrors) {
  auto j = qwen3_json();
  j["architectures"] = {"GPTNeoXForCausalLM"};
  j["model_type"] = "gpt_neox";
  auto c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("unsupported architecture 'GPTNeoXForCausalLM'"), std::string::npos);

  j = qwen3_json();
  j.erase("hidden_size");
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("missing required field 'hidden_size'"), std::string::npos);

  j = qwen3_json();
  j["num_key_value_heads"] = 3;
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("not a multiple"), std::string::npos);

  j = qwen3_json();
  j["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 4.0}};
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("unsupported rope_scaling type 'longrope'"), std::string::npos);

  j = qwen3_json();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"mscale", 0.707}};
  c = config_from_hf_json(j, "cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("mscale"), std::string::npos);
}

// gpt-oss-20b's config.json (the fields sluice reads).
nlohmann::json gpt_oss_json() {
  nlohmann::json layer_types = nlohmann::json::array();
  for (int i = 0; i < 24; ++i)
    layer_types.push_back(i % 2 ? "full_attention" : "sliding_attention");
  return {{"architectures", {"GptOssForCausalLM"}},
          {"model_type", "gpt_oss"},
          {"vocab_size", 201088},
          {"hidden_size", 2880},
          {"intermediate_size", 2880},
          {"num_hidden_layers", 24},
          {"num_attention_heads", 64},
          {"num_key_value_heads", 8},
          {"head_dim", 64},
          {"num_local_experts", 32},
          {"num_experts_per_tok", 4},
          {"sliding_window", 128},
          {"layer_types", layer_types},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 150000},
          {"swiglu_limit", 7.0},
          {"max_position_embeddings", 131072},
          {"rope_scaling",
           {{"rope_type", "yarn"},
            {"factor", 32.0},
            {"beta_fast", 32.0},
            {"beta_slow", 1.0},
            {"original_max_position_embeddings", 4096},
            {"truncate", false}}}};
}

TEST(ModelConfig, GptOss) {
  auto c = config_from_hf_json(gpt_oss_json(), "cfg");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch->name, "gpt-oss");
  EXPECT_TRUE(c->attention_sinks && c->attention_bias);
  EXPECT_EQ(c->num_experts, 32);
  EXPECT_EQ(c->num_experts_used, 4);
  EXPECT_EQ(c->expert_intermediate_size, 2880);
  EXPECT_FLOAT_EQ(c->swiglu_limit, 7.0f);
  EXPECT_TRUE(c->is_sliding(0));
  EXPECT_FALSE(c->is_sliding(1));
  EXPECT_TRUE(c->is_sliding(22));
  EXPECT_FALSE(c->is_sliding(23));
  // YaRN: q.k scaled by (0.1 ln 32 + 1)^2 on top of 1/sqrt(64).
  const double m = 0.1 * std::log(32.0) + 1.0;
  EXPECT_NEAR(c->attention_scale(), m * m / 8.0, 1e-6);

  auto j = gpt_oss_json();
  j["layer_types"][2] = "full_attention";
  EXPECT_FALSE(config_from_hf_json(j, "cfg").ok());
}

// YaRN frequencies against the formula written out (truncate false: the ramp's ends unrounded).
TEST(ModelConfig, YarnInvFreq) {
  auto c = config_from_hf_json(gpt_oss_json(), "cfg");
  ASSERT_TRUE(c.ok()) << c.error();
  const std::vector<float> inv = c->rope_inv_freq();
  ASSERT_EQ(inv.size(), 32u);
  auto dim = [](double rot) {
    return 64 * std::log(4096 / (rot * 2 * M_PI)) / (2 * std::log(150000.0));
  };
  const double low = dim(32.0), high = dim(1.0);
  for (int i = 0; i < 32; ++i) {
    const double base = std::pow(150000.0, -2.0 * i / 64);
    const double keep = 1.0 - std::clamp((i - low) / (high - low), 0.0, 1.0);
    EXPECT_NEAR(inv[i], base / 32 * (1 - keep) + base * keep, 1e-6 * base) << i;
  }
  EXPECT_FLOAT_EQ(inv[0], 1.0f);                                    // kept
  EXPECT_NEAR(inv[31], std::pow(150000.0, -62.0 / 64) / 32, 1e-9);  // interpolated
}

TEST(ModelConfig, Llama3RopeScaling) {
  auto j = qwen3_json();
  j["architectures"] = {"LlamaForCausalLM"};
  j["head_dim"] = 128;
  j["hidden_size"] = 512;
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  auto c = config_from_hf_json(j, "cfg");
  ASSERT_TRUE(c.ok()) << c.error();
  const auto inv = c->rope_inv_freq();
  ASSERT_EQ(inv.size(), 64u);
  // High frequencies (short wavelengths) are untouched; the lowest are divided by the factor.
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  const double base_last = 1.0 / std::pow(500000.0, 126.0 / 128.0);
  EXPECT_NEAR(inv[63], base_last / 8.0, 1e-12);
  // In the band between, interpolation lies between the two.
  for (size_t i = 0; i < inv.size(); ++i) {
    const double base = 1.0 / std::pow(500000.0, 2.0 * i / 128.0);
    EXPECT_LE(inv[i], base * (1 + 1e-6));
    EXPECT_GE(inv[i], base / 8.0 * (1 - 1e-6));
  }
}

TEST(GgufNames, MapsCanonicalNames) {
  EXPECT_EQ(gguf_tensor_name("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_tensor_name("lm_head.weight"), "output.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.12.self_attn.q_proj.bias"), "blk.12.attn_q.bias");
  EXPECT_EQ(gguf_tensor_name("model.layers.0.self_attn.k_norm.weight"), "blk.0.attn_k_norm.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.3.mlp.down_proj.weight"), "blk.3.ffn_down.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.3.mlp.nonsense.weight"), "");
}

}  // namespace
}  // namespace sluice
