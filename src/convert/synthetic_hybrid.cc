#include "convert/synthetic_hybrid.h"

#include <algorithm>

#include "model/arch/arch_spec.h"

namespace sluice {

Result<ModelConfig> hybrid_preset(ModelConfig c, const std::string& preset,
                                  int64_t tokenizer_vocab) {
  const bool moe = c.arch->moe;
  int64_t vocab = 248320;
  // hidden, layers, heads, kv heads, head_dim, Hk, Hv, dk (= dv), MLP width, experts, k, expert
  // width (the shared expert's too).
  if (preset == "tiny") {  // 4 layers (3 delta-net, 1 attention); Hv = 2 Hk; k-quants apply
    c.hidden_size = 256, c.num_layers = 4, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 64;
    c.linear_num_k_heads = 2, c.linear_num_v_heads = 4, c.linear_head_k_dim = 64;
    c.intermediate_size = 512, c.num_experts = 8, c.num_experts_used = 2;
    c.expert_intermediate_size = 256;
    c.max_position_embeddings = 4096;
    vocab = 0;
  } else if (!moe && preset == "qwen3.5-0.8b") {
    c.hidden_size = 1024, c.num_layers = 24, c.num_heads = 8, c.num_kv_heads = 2, c.head_dim = 256;
    c.linear_num_k_heads = 16, c.linear_num_v_heads = 16, c.linear_head_k_dim = 128;
    c.intermediate_size = 3584;
  } else if (!moe && preset == "qwen3.5-9b") {
    c.hidden_size = 4096, c.num_layers = 32, c.num_heads = 16, c.num_kv_heads = 4;
    c.head_dim = 256, c.linear_num_k_heads = 16, c.linear_num_v_heads = 32;
    c.linear_head_k_dim = 128, c.intermediate_size = 12288;
  } else if (moe && preset == "qwen3.5-35b-a3b") {
    c.hidden_size = 2048, c.num_layers = 40, c.num_heads = 16, c.num_kv_heads = 2;
    c.head_dim = 256, c.linear_num_k_heads = 16, c.linear_num_v_heads = 32;
    c.linear_head_k_dim = 128, c.num_experts = 256, c.num_experts_used = 8;
    c.expert_intermediate_size = 512, c.intermediate_size = 512;
  } else if (moe && preset == "qwen3-next-80b-a3b") {
    c.hidden_size = 2048, c.num_layers = 48, c.num_heads = 16, c.num_kv_heads = 2;
    c.head_dim = 256, c.linear_num_k_heads = 16, c.linear_num_v_heads = 32;
    c.linear_head_k_dim = 128, c.num_experts = 512, c.num_experts_used = 10;
    c.expert_intermediate_size = 512, c.intermediate_size = 5120;
    vocab = 151936;
  } else {
    return Status::error("make-model", "unknown preset '" + preset + "' for " + c.arch->name +
                                           (moe ? " (tiny, qwen3.5-35b-a3b, qwen3-next-80b-a3b)"
                                                : " (tiny, qwen3.5-0.8b, qwen3.5-9b)"));
  }
  if (!moe) c.num_experts = c.num_experts_used = c.expert_intermediate_size = 0;
  if (moe) c.shared_expert_intermediate_size = c.expert_intermediate_size, c.norm_topk_prob = true;
  if (preset != "tiny") c.max_position_embeddings = 262144;
  c.linear_head_v_dim = c.linear_head_k_dim;
  c.linear_conv_kernel = 4;
  c.linear_heads_tiled = false;  // canonical (Hugging Face) order; GGUF writers reorder
  c.recurrent_layers.assign(c.num_layers, 1);
  for (int64_t i = 3; i < c.num_layers; i += 4) c.recurrent_layers[i] = 0;
  c.rotary_dim = c.head_dim / 4;
  c.attention_output_gate = true;
  c.vocab_size = std::max(vocab, tokenizer_vocab);
  c.rms_norm_eps = 1e-6f;
  c.rope_theta = c.arch->default_rope_theta;
  c.qk_norm = true;
  c.tie_word_embeddings = false;
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

void hybrid_layer_specs(const ModelConfig& c, int64_t i, std::vector<TensorSpec>& t) {
  using K = TensorSpec::Kind;
  const int64_t H = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t hv = c.linear_num_v_heads, vdim = hv * c.linear_head_v_dim;
  const int64_t C = 2 * c.linear_num_k_heads * c.linear_head_k_dim + vdim;
  const std::string p = "model.layers." + std::to_string(i) + ".";
  t.push_back({p + "input_layernorm.weight", K::kNorm, 1, H});
  if (c.is_recurrent(i)) {
    const std::string a = p + "linear_attn.";
    t.push_back({a + "in_proj_qkv.weight", K::kMatrix, C, H});
    t.push_back({a + "in_proj_z.weight", K::kMatrix, vdim, H});
    t.push_back({a + "in_proj_b.weight", K::kMatrix, hv, H});
    t.push_back({a + "in_proj_a.weight", K::kMatrix, hv, H});
    t.push_back({a + "conv1d.weight", K::kConv, C, c.linear_conv_kernel});
    t.push_back({a + "dt_bias", K::kBias, 1, hv});
    t.push_back({a + "A_log", K::kDecay, 1, hv});
    t.push_back({a + "norm.weight", K::kNorm, 1, c.linear_head_v_dim});
    t.push_back({a + "out_proj.weight", K::kMatrix, H, vdim});
  } else {  // q_proj: each head's query rows, then its gate rows
    t.push_back({p + "self_attn.q_proj.weight", K::kMatrix, 2 * q, H});
    t.push_back({p + "self_attn.k_proj.weight", K::kMatrix, kv, H});
    t.push_back({p + "self_attn.v_proj.weight", K::kMatrix, kv, H});
    t.push_back({p + "self_attn.q_norm.weight", K::kNorm, 1, c.head_dim});
    t.push_back({p + "self_attn.k_norm.weight", K::kNorm, 1, c.head_dim});
    t.push_back({p + "self_attn.o_proj.weight", K::kMatrix, H, q});
  }
  t.push_back({p + "post_attention_layernorm.weight", K::kNorm, 1, H});
  if (c.num_experts > 0) {
    const int64_t E = c.num_experts, EI = c.expert_intermediate_size;
    const int64_t SI = c.shared_expert_intermediate_size;
    t.push_back({p + "mlp.gate.weight", K::kMatrix, E, H});
    t.push_back({p + "mlp.experts.gate_proj.weight", K::kMatrix, E * EI, H, E});
    t.push_back({p + "mlp.experts.up_proj.weight", K::kMatrix, E * EI, H, E});
    t.push_back({p + "mlp.experts.down_proj.weight", K::kMatrix, E * H, EI, E});
    t.push_back({p + "mlp.shared_expert.gate_proj.weight", K::kMatrix, SI, H});
    t.push_back({p + "mlp.shared_expert.up_proj.weight", K::kMatrix, SI, H});
    t.push_back({p + "mlp.shared_expert.down_proj.weight", K::kMatrix, H, SI});
    t.push_back({p + "mlp.shared_expert_gate.weight", K::kMatrix, 1, H});
  } else {
    t.push_back({p + "mlp.gate_proj.weight", K::kMatrix, c.intermediate_size, H});
    t.push_back({p + "mlp.up_proj.weight", K::kMatrix, c.intermediate_size, H});
    t.push_back({p + "mlp.down_proj.weight", K::kMatrix, H, c.intermediate_size});
  }
}

}  // namespace sluice
