#include "convert/synthetic_model.h"

#include <cmath>
#include <functional>

#include "convert/synthetic_hybrid.h"
#include "model/arch/arch_spec.h"

namespace sluice {

namespace {

// What every preset takes from its architecture: the vocabulary (at least the tokenizer's),
// norm epsilon, RoPE base, biases, q/k norms and tied embeddings.
void arch_defaults(ModelConfig& c, int64_t preset_vocab, int64_t tokenizer_vocab) {
  c.vocab_size = std::max(preset_vocab, tokenizer_vocab);
  c.rms_norm_eps = 1e-6f;
  c.rope_theta = c.arch->default_rope_theta;
  c.attention_bias = c.arch->attention_bias;
  c.qk_norm = c.arch->qk_norm;
  c.tie_word_embeddings = c.arch->default_tie_word_embeddings;
}

// Qwen3-VL's text side: interleaved M-RoPE sections [24, 20, 20] of 64 pairs (scaled to the
// head) and 3 deepstack layers.
void qwen3vl_defaults(ModelConfig& c) {
  const int32_t half = static_cast<int32_t>(c.rope_dim() / 2), hw = half * 5 / 16;
  c.rope_sections = {half - 2 * hw, hw, hw, 0};
  c.rope_sections_interleaved = true;
  c.num_deepstack_layers = 3;
}

// Qwen3-VL dense shapes (Hugging Face's Qwen3-VL-*-Instruct text_config).
Result<ModelConfig> qwen3vl_preset(ModelConfig c, const std::string& preset,
                                   int64_t tokenizer_vocab) {
  int64_t preset_vocab = 151936;
  c.head_dim = 128, c.num_kv_heads = 8, c.max_position_embeddings = 262144;
  if (preset == "tiny") {  // four layers: three of them take deepstack slices
    c.hidden_size = 256, c.intermediate_size = 512, c.num_layers = 4;
    c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 64, c.max_position_embeddings = 4096;
    preset_vocab = 0;
  } else if (preset == "qwen3vl-2b") {
    c.hidden_size = 2048, c.intermediate_size = 6144, c.num_layers = 28, c.num_heads = 16;
  } else if (preset == "qwen3vl-4b") {
    c.hidden_size = 2560, c.intermediate_size = 9728, c.num_layers = 36, c.num_heads = 32;
  } else if (preset == "qwen3vl-8b") {
    c.hidden_size = 4096, c.intermediate_size = 12288, c.num_layers = 36, c.num_heads = 32;
  } else {
    return Status::error("make-model", "unknown preset '" + preset +
                                           "' for qwen3vl (tiny, qwen3vl-2b, qwen3vl-4b, "
                                           "qwen3vl-8b)");
  }
  arch_defaults(c, preset_vocab, tokenizer_vocab);
  if (preset == "qwen3vl-8b") c.tie_word_embeddings = false;
  qwen3vl_defaults(c);
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

// Mixture-of-experts shapes (Qwen3 MoE layout; qwen3vlmoe: with Qwen3-VL's M-RoPE and deepstack).
Result<ModelConfig> moe_preset(ModelConfig c, const std::string& preset, int64_t tokenizer_vocab) {
  int64_t preset_vocab = 0;
  if (c.arch->deepstack && preset == "tiny") {  // four layers: three take deepstack slices
    // Experts 512 wide: no fused expert tensor is square, so a reader cannot mistake its layout
    // for the transpose (transformers keeps a square one as it is).
    c.hidden_size = 256, c.num_layers = 4, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 64;
    c.num_experts = 8, c.num_experts_used = 2, c.expert_intermediate_size = 512;
    c.max_position_embeddings = 4096;
  } else if (preset == "tiny") {  // multiples of 256: every GGUF k-quant applies
    c.hidden_size = 256, c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 64;
    c.num_experts = 8, c.num_experts_used = 2, c.expert_intermediate_size = 256;
    c.max_position_embeddings = 4096;
  } else if (preset == "moe-small") {  // ~0.9B parameters, ~0.2B active: fits the 2-core VM
    c.hidden_size = 1024, c.num_layers = 12, c.num_heads = 16, c.num_kv_heads = 4;
    c.head_dim = 64, c.num_experts = 32, c.num_experts_used = 4, c.expert_intermediate_size = 512;
    c.max_position_embeddings = 32768;
    preset_vocab = 151936;
  } else if (preset == "qwen3-30b-a3b" || preset == "qwen3vl-30b-a3b") {
    c.hidden_size = 2048, c.num_layers = 48, c.num_heads = 32, c.num_kv_heads = 4;
    c.head_dim = 128, c.num_experts = 128, c.num_experts_used = 8, c.expert_intermediate_size = 768;
    c.max_position_embeddings = 40960;
    preset_vocab = 151936;
  } else {
    return Status::error("make-model", "unknown preset '" + preset + "' for " + c.arch->name +
                                           " (tiny, moe-small, qwen3-30b-a3b, "
                                           "qwen3vl-30b-a3b)");
  }
  c.intermediate_size = 6 * c.expert_intermediate_size;  // the config's dense width (unused)
  c.norm_topk_prob = true;
  arch_defaults(c, preset_vocab, tokenizer_vocab);
  if (c.arch->deepstack) {
    if (preset == "qwen3vl-30b-a3b") c.max_position_embeddings = 262144;
    qwen3vl_defaults(c);
  }
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

// Gemma 3 text shapes (5 sliding-window layers to 1 global).
Result<ModelConfig> gemma3_preset(ModelConfig c, const std::string& preset,
                                  int64_t tokenizer_vocab) {
  int64_t preset_vocab = 262144;
  c.sliding_window_pattern = 6, c.rope_theta_local = 10000.0f;
  if (preset == "tiny") {  // six layers: one of them global; a short window tests can pass
    c.hidden_size = 256, c.intermediate_size = 512, c.num_layers = 6, c.num_heads = 4;
    c.num_kv_heads = 1, c.head_dim = 64, c.sliding_window = 32, c.max_position_embeddings = 4096;
    preset_vocab = 0;
  } else if (preset == "gemma3-270m") {
    c.hidden_size = 640, c.intermediate_size = 2048, c.num_layers = 18, c.num_heads = 4;
    c.num_kv_heads = 1, c.head_dim = 256, c.sliding_window = 512;
  } else if (preset == "gemma3-1b") {
    c.hidden_size = 1152, c.intermediate_size = 6912, c.num_layers = 26, c.num_heads = 4;
    c.num_kv_heads = 1, c.head_dim = 256, c.sliding_window = 512;
  } else if (preset == "gemma3-4b") {
    c.hidden_size = 2560, c.intermediate_size = 10240, c.num_layers = 34, c.num_heads = 8;
    c.num_kv_heads = 4, c.head_dim = 256, c.sliding_window = 1024;
    c.rope_scaling.type = "linear", c.rope_scaling.factor = 8.0f;
  } else {
    return Status::error(
        "make-model",
        "unknown preset '" + preset + "' for gemma3 (tiny, gemma3-270m, gemma3-1b, gemma3-4b)");
  }
  if (c.max_position_embeddings == 4096 && preset != "tiny") c.max_position_embeddings = 32768;
  arch_defaults(c, preset_vocab, tokenizer_vocab);  // gemma3: q/k norms, tied head
  c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

// gpt-oss shapes: alternating sliding (128) and full layers, YaRN x32 over 4k.
Result<ModelConfig> gpt_oss_preset(ModelConfig c, const std::string& preset,
                                   int64_t tokenizer_vocab) {
  int64_t preset_vocab = 201088;
  if (preset == "tiny") {  // four layers (two sliding); a window the test prompts pass
    c.hidden_size = 256, c.num_layers = 4, c.num_heads = 8, c.num_kv_heads = 2, c.head_dim = 64;
    c.num_experts = 8, c.num_experts_used = 4, c.expert_intermediate_size = 256;
    c.sliding_window = 16, c.max_position_embeddings = 4096;
    preset_vocab = 0;
  } else if (preset == "gpt-oss-20b") {
    c.hidden_size = 2880, c.num_layers = 24, c.num_heads = 64, c.num_kv_heads = 8;
    c.head_dim = 64, c.num_experts = 32, c.num_experts_used = 4, c.expert_intermediate_size = 2880;
    c.sliding_window = 128, c.max_position_embeddings = 131072;
  } else {
    return Status::error("make-model",
                         "unknown preset '" + preset + "' for gpt-oss (tiny, gpt-oss-20b)");
  }
  c.intermediate_size = c.expert_intermediate_size;
  c.sliding_window_pattern = 2;
  c.rope_scaling.type = "yarn", c.rope_scaling.factor = 32.0f;
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.attention_sinks = true, c.swiglu_limit = 7.0f;
  arch_defaults(c, preset_vocab, tokenizer_vocab);
  c.rms_norm_eps = 1e-5f;
  c.rope_theta_local = c.rope_theta;
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace

Result<ModelConfig> preset_config(const std::string& preset, const std::string& arch_name,
                                  int64_t tokenizer_vocab_size) {
  ModelConfig c;
  c.arch = find_arch_by_name(arch_name);
  if (!c.arch)
    return Status::error(
        "make-model",
        "unknown architecture '" + arch_name +
            "' (llama, qwen2, qwen2vl, qwen3, qwen3moe, qwen3vl, qwen3vlmoe, gemma3, gpt-oss, "
            "qwen35, qwen35moe, qwen3next)");
  int64_t preset_vocab = 0;
  if (c.arch->hybrid) return hybrid_preset(c, preset, tokenizer_vocab_size);
  if (c.arch == &gpt_oss_arch()) return gpt_oss_preset(c, preset, tokenizer_vocab_size);
  if (c.arch->moe) return moe_preset(c, preset, tokenizer_vocab_size);
  if (c.arch->deepstack) return qwen3vl_preset(c, preset, tokenizer_vocab_size);
  if (c.arch->sliding_window_layers) return gemma3_preset(c, preset, tokenizer_vocab_size);
  if (preset == "tiny") {
    // Dimensions are multiples of 256 so every GGUF k-quant applies.
    c.hidden_size = 256, c.intermediate_size = 512, c.num_layers = 2;
    c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 64, c.max_position_embeddings = 4096;
  } else if (preset == "qwen3-0.6b") {
    c.hidden_size = 1024, c.intermediate_size = 3072, c.num_layers = 28;
    c.num_heads = 16, c.num_kv_heads = 8, c.head_dim = 128, c.max_position_embeddings = 40960;
    preset_vocab = 151936;
  } else if (preset == "qwen2vl-7b") {  // Qwen2-VL-7B's and Qwen2.5-VL-7B's language model
    c.hidden_size = 3584, c.intermediate_size = 18944, c.num_layers = 28;
    c.num_heads = 28, c.num_kv_heads = 4, c.head_dim = 128, c.max_position_embeddings = 128000;
    preset_vocab = 152064;
  } else if (preset == "llama3-8b") {
    c.hidden_size = 4096, c.intermediate_size = 14336, c.num_layers = 32;
    c.num_heads = 32, c.num_kv_heads = 8, c.head_dim = 128, c.max_position_embeddings = 131072;
    preset_vocab = 128256;
  } else {
    return Status::error(
        "make-model", "unknown preset '" + preset + "' (tiny, qwen3-0.6b, llama3-8b, qwen2vl-7b)");
  }
  arch_defaults(c, preset_vocab, tokenizer_vocab_size);
  if (c.arch->mrope) {  // Qwen2-VL's [16, 24, 24] of 64 pairs, scaled to the head
    const int32_t half = static_cast<int32_t>(c.rope_dim() / 2), t = half / 4;
    c.rope_sections = {t, (half - t) / 2, (half - t) / 2, 0};
  }
  if (preset == "llama3-8b") {
    c.rope_theta = 500000.0f;
    c.rms_norm_eps = 1e-5f;
    c.tie_word_embeddings = false;
    if (c.arch->name == "llama") {  // Llama 3.1's RoPE scaling
      c.rope_scaling.type = "llama3";
      c.rope_scaling.factor = 8.0f;
      c.rope_scaling.low_freq_factor = 1.0f;
      c.rope_scaling.high_freq_factor = 4.0f;
      c.rope_scaling.original_max_position_embeddings = 8192;
    }
  }
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

std::vector<TensorSpec> model_tensor_specs(const ModelConfig& c) {
  using K = TensorSpec::Kind;
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  std::vector<TensorSpec> t = {{"model.embed_tokens.weight", K::kEmbedding, c.vocab_size, H}};
  for (int64_t i = 0; i < c.num_layers; ++i) {
    if (c.arch->hybrid) {
      hybrid_layer_specs(c, i, t);
      continue;
    }
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "input_layernorm.weight", K::kNorm, 1, H});
    t.push_back({p + "self_attn.q_proj.weight", K::kMatrix, q, H});
    t.push_back({p + "self_attn.k_proj.weight", K::kMatrix, kv, H});
    t.push_back({p + "self_attn.v_proj.weight", K::kMatrix, kv, H});
    if (c.attention_bias) {
      t.push_back({p + "self_attn.q_proj.bias", K::kBias, 1, q});
      t.push_back({p + "self_attn.k_proj.bias", K::kBias, 1, kv});
      t.push_back({p + "self_attn.v_proj.bias", K::kBias, 1, kv});
    }
    if (c.qk_norm) {
      t.push_back({p + "self_attn.q_norm.weight", K::kNorm, 1, c.head_dim});
      t.push_back({p + "self_attn.k_norm.weight", K::kNorm, 1, c.head_dim});
    }
    t.push_back({p + "self_attn.o_proj.weight", K::kMatrix, H, q});
    if (c.attention_sinks) {  // gpt-oss
      t.push_back({p + "self_attn.o_proj.bias", K::kBias, 1, H});
      t.push_back({p + "self_attn.sinks", K::kSink, 1, c.num_heads});
    }
    t.push_back({p + "post_attention_layernorm.weight", K::kNorm, 1, H});
    if (c.arch->sliding_window_layers) {  // Gemma: post_attention_layernorm follows attention
      t.push_back({p + "pre_feedforward_layernorm.weight", K::kNorm, 1, H});
      t.push_back({p + "post_feedforward_layernorm.weight", K::kNorm, 1, H});
    }
    if (c.num_experts > 0) {
      const int64_t E = c.num_experts, EI = c.expert_intermediate_size;
      if (c.attention_sinks) {  // gpt-oss: a router with a bias, experts with biases
        t.push_back({p + "mlp.router.weight", K::kMatrix, E, H});
        t.push_back({p + "mlp.router.bias", K::kBias, 1, E});
        t.push_back({p + "mlp.experts.gate_proj.bias", K::kBias, E, EI});
        t.push_back({p + "mlp.experts.up_proj.bias", K::kBias, E, EI});
        t.push_back({p + "mlp.experts.down_proj.bias", K::kBias, E, H});
      } else {
        t.push_back({p + "mlp.gate.weight", K::kMatrix, E, H});
      }
      t.push_back({p + "mlp.experts.gate_proj.weight", K::kMatrix, E * EI, H, E});
      t.push_back({p + "mlp.experts.up_proj.weight", K::kMatrix, E * EI, H, E});
      t.push_back({p + "mlp.experts.down_proj.weight", K::kMatrix, E * H, EI, E});
      continue;
    }
    t.push_back({p + "mlp.gate_proj.weight", K::kMatrix, I, H});
    t.push_back({p + "mlp.up_proj.weight", K::kMatrix, I, H});
    t.push_back({p + "mlp.down_proj.weight", K::kMatrix, H, I});
  }
  t.push_back({"model.norm.weight", K::kNorm, 1, H});
  if (!c.tie_word_embeddings) t.push_back({"lm_head.weight", K::kMatrix, c.vocab_size, H});
  return t;
}

namespace {

// splitmix64: a counter-based generator, so any element is a pure function of (key, index).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// Standard normal via Box-Muller from two uniforms derived from (key, i).
float normal(uint64_t key, uint64_t i) {
  const uint64_t a = mix(key ^ mix(2 * i)), b = mix(key ^ mix(2 * i + 1));
  const double u1 = (static_cast<double>(a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(b >> 11) * (1.0 / 9007199254740992.0);
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

}  // namespace

std::vector<float> synthetic_tensor(const TensorSpec& t, const ModelConfig& c, uint64_t seed) {
  using K = TensorSpec::Kind;
  const uint64_t key = mix(seed) ^ fnv1a(t.name);
  const int64_t n = t.rows * t.cols;
  std::vector<float> v(n);
  // Well-conditioned like a trained model: embeddings of std 1 dominate the residual stream;
  // projections have std 1/sqrt(fan_in), and those writing into the residual (o_proj, down_proj)
  // a further 1/sqrt(2 * layers) (GPT-2's scheme). The output side (final norm, or an untied
  // lm_head) is scaled so the logits have std ~3: peaked, far from flat.
  const float out_scale = 3.0f / std::sqrt(static_cast<float>(c.hidden_size));
  const bool residual_writer =
      t.name.find("o_proj") != std::string::npos || t.name.find("down_proj") != std::string::npos;
  float mean = 0.0f, std = 0.0f;
  switch (t.kind) {
    case K::kEmbedding:
      std = 1.0f;
      break;
    case K::kMatrix:
      std = 1.0f / std::sqrt(static_cast<float>(t.cols));
      if (residual_writer) std /= std::sqrt(2.0f * static_cast<float>(c.num_layers));
      if (t.name == "lm_head.weight") std = out_scale;
      break;
    case K::kNorm:
      mean = (t.name == "model.norm.weight" && c.tie_word_embeddings) ? out_scale : 1.0f;
      std = 0.1f * mean;
      break;
    case K::kBias:
      std = 0.1f;
      break;
    case K::kSink:  // logits comparable to the scores, so the sinks take a visible share
      std = 1.0f;
      break;
    case K::kConv:  // taps of std 1/sqrt(kernel): the conv keeps its input's scale
      std = 1.0f / std::sqrt(static_cast<float>(t.cols));
      break;
    case K::kDecay:  // A_log ~ N(-1, 0.5): decays exp(-A * softplus(..)) well inside (0, 1)
      mean = -1.0f, std = 0.5f;
      break;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) v[i] = mean + std * normal(key, static_cast<uint64_t>(i));
  return v;
}

}  // namespace sluice
