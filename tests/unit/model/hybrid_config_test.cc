// Hybrid linear-attention configs (Qwen3.5, Qwen3-Next) from config.json, and their GGUF names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/arch/arch_spec.h"
#include "model/kv_layout.h"
#include "model/load/weight_source.h"
#include "model/model_config.h"
#include "model/state_storage.h"

namespace sluice {
namespace {

nlohmann::json qwen35_text() {
  return nlohmann::json{
      {"vocab_size", 1000},
      {"hidden_size", 256},
      {"intermediate_size", 512},
      {"num_hidden_layers", 8},
      {"num_attention_heads", 4},
      {"num_key_value_heads", 2},
      {"head_dim", 64},
      {"linear_num_key_heads", 2},
      {"linear_num_value_heads", 4},
      {"linear_key_head_dim", 32},
      {"linear_value_head_dim", 48},
      {"linear_conv_kernel_dim", 4},
      {"full_attention_interval", 4},
      {"rope_parameters", {{"rope_theta", 1e7}, {"partial_rotary_factor", 0.25}}}};
}

TEST(HybridConfig, Qwen35FromTextConfigOfAMultimodalCheckpoint) {
  nlohmann::json j{{"architectures", {"Qwen3_5ForConditionalGeneration"}},
                   {"model_type", "qwen3_5"},
                   {"text_config", qwen35_text()}};
  auto c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &qwen35_arch());
  EXPECT_EQ(c->recurrent_layers, (std::vector<uint8_t>{1, 1, 1, 0, 1, 1, 1, 0}));
  EXPECT_TRUE(c->hybrid());
  EXPECT_EQ(c->rope_dim(), 16);
  EXPECT_EQ(c->rope_inv_freq().size(), 8u);
  EXPECT_FLOAT_EQ(c->rope_theta, 1e7f);
  EXPECT_TRUE(c->attention_output_gate);
  EXPECT_FALSE(c->linear_heads_tiled);
  EXPECT_EQ(c->linear_head_v_dim, 48);
  // Recurrent layers keep no KV pages: one group of the two attention layers.
  const KvLayout l = KvLayout::of(*c, true);
  EXPECT_EQ(l.pages_per_block, 2);
  EXPECT_EQ(l.layer_page, (std::vector<int32_t>{-1, -1, -1, 0, -1, -1, -1, 1}));
  // Per recurrent layer: conv (4-1) x (2*2*32 + 4*48) and S 4 x 32 x 48 floats.
  EXPECT_EQ(StateStorage::bytes_per_slot(*c), 6 * 4 * (3 * 320 + 4 * 32 * 48));
}

TEST(HybridConfig, LayerTypesAndClearErrors) {
  nlohmann::json j = qwen35_text();
  j["architectures"] = {"Qwen3NextForCausalLM"};
  j["model_type"] = "qwen3_next";
  j["num_experts"] = 8, j["num_experts_per_tok"] = 2, j["moe_intermediate_size"] = 64;
  j["shared_expert_intermediate_size"] = 96, j["norm_topk_prob"] = true;
  j["num_hidden_layers"] = 3;
  j["layer_types"] = {"linear_attention", "full_attention", "linear_attention"};
  auto c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->arch, &qwen3next_arch());
  EXPECT_EQ(c->recurrent_layers, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(c->shared_expert_intermediate_size, 96);

  auto fails = [&](nlohmann::json bad, const std::string& part) {
    auto r = config_from_hf_json(bad, "config.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(part), std::string::npos) << r.error();
  };
  nlohmann::json v = j;
  v["linear_num_value_heads"] = 3;
  fails(v, "a multiple of key heads");
  nlohmann::json k = j;
  k["linear_conv_kernel_dim"] = 1;
  fails(k, "conv kernel size 1");
  nlohmann::json t = j;
  t["layer_types"] = {"linear_attention", "full_attention"};
  fails(t, "layer_types has 2 entries");
  nlohmann::json u = j;
  u["layer_types"] = {"linear_attention", "mamba", "linear_attention"};
  fails(u, "unknown layer type");
}

TEST(HybridConfig, GgufNamesOfTheDeltaNetAndSharedExpert) {
  const std::string p = "model.layers.2.";
  EXPECT_EQ(gguf_tensor_name(p + "linear_attn.in_proj_qkv.weight", "qwen35"),
            "blk.2.attn_qkv.weight");
  EXPECT_EQ(gguf_tensor_name(p + "linear_attn.A_log", "qwen35moe"), "blk.2.ssm_a");
  EXPECT_EQ(gguf_tensor_name(p + "linear_attn.in_proj_ba.weight", "qwen3next"),
            "blk.2.ssm_ba.weight");
  EXPECT_EQ(gguf_tensor_name(p + "post_attention_layernorm.weight", "qwen35"),
            "blk.2.post_attention_norm.weight");
  EXPECT_EQ(gguf_tensor_name(p + "post_attention_layernorm.weight", "qwen3"),
            "blk.2.ffn_norm.weight");
  EXPECT_EQ(gguf_tensor_name(p + "mlp.shared_expert_gate.weight", "qwen3next"),
            "blk.2.ffn_gate_inp_shexp.weight");
}

}  // namespace
}  // namespace sluice
