#include "model/model_config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "model/arch/arch_spec.h"
#include "model/hybrid_config.h"
#include "model/vlm_config.h"

namespace sluice {

namespace {

Status bad(const std::string& where, const std::string& what) {
  return Status::error("config", where + ": " + what);
}

// Reads an integer field; `fallback` < 0 means required.
Result<int64_t> json_int(const nlohmann::json& j, const char* key, int64_t fallback,
                         const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (fallback >= 0) return fallback;
    return bad(where, std::string("missing required field '") + key + "'");
  }
  if (!it->is_number_integer())
    return bad(where, std::string("field '") + key + "' is not an integer");
  return it->get<int64_t>();
}

Result<float> json_float(const nlohmann::json& j, const char* key, float fallback,
                         const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) return bad(where, std::string("field '") + key + "' is not a number");
  return it->get<float>();
}

// mrope: M-RoPE's "type" in Qwen2-VL files (plain RoPE per section, no scaling).
Status parse_rope_scaling(const nlohmann::json& rs, RopeScaling* out, bool mrope,
                          const std::string& where) {
  if (rs.is_null()) return Status::ok();
  if (!rs.is_object()) return bad(where, "rope_scaling is not an object");
  std::string type = rs.value("rope_type", rs.value("type", std::string()));
  if (type.empty() || type == "default" || (mrope && type == "mrope")) return Status::ok();
  if (type != "linear" && type != "llama3" && type != "yarn")
    return bad(where,
               "unsupported rope_scaling type '" + type + "' (supported: linear, llama3, yarn)");
  out->type = type;
  out->factor = rs.value("factor", 1.0f);
  out->low_freq_factor = rs.value("low_freq_factor", 1.0f);
  out->high_freq_factor = rs.value("high_freq_factor", 4.0f);
  out->original_max_position_embeddings = rs.value("original_max_position_embeddings", 8192);
  out->beta_fast = rs.value("beta_fast", 32.0f);
  out->beta_slow = rs.value("beta_slow", 1.0f);
  out->truncate = rs.value("truncate", true);
  if (auto it = rs.find("attention_factor"); it != rs.end() && it->is_number())
    out->attention_factor = it->get<float>();
  if (type == "yarn" && (rs.contains("mscale") || rs.contains("mscale_all_dim")))
    return bad(where, "rope_scaling: YaRN's mscale / mscale_all_dim are not supported");
  if (!(out->factor > 0.0f)) return bad(where, "rope_scaling.factor must be > 0");
  if (type == "yarn" && (out->original_max_position_embeddings <= 0 ||
                         !(out->beta_fast > out->beta_slow) || !(out->beta_slow > 0.0f)))
    return bad(where,
               "rope_scaling: YaRN needs original_max_position_embeddings > 0 and "
               "beta_fast > beta_slow > 0");
  if (type == "llama3" && !(out->high_freq_factor > out->low_freq_factor))
    return bad(where, "rope_scaling: high_freq_factor must exceed low_freq_factor");
  return Status::ok();
}

// M-RoPE's sections (pairs turned by the time, row and column positions) from rope_scaling or
// rope_parameters; transformers' modeling defaults where the file names none.
Status mrope_from_hf(const nlohmann::json* rs, ModelConfig& c, const std::string& where) {
  std::vector<int64_t> s = c.arch->interleaved_mrope ? std::vector<int64_t>{24, 20, 20}
                                                     : std::vector<int64_t>{16, 24, 24};
  if (rs && rs->is_object() && rs->contains("mrope_section")) {
    const nlohmann::json& ms = (*rs)["mrope_section"];
    if (!ms.is_array() || ms.empty() || ms.size() > 4)
      return bad(where, "mrope_section must be a list of up to 4 integers");
    s.clear();
    for (const nlohmann::json& v : ms) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 16))
        return bad(where, "mrope_section holds " + v.dump());
      s.push_back(v.get<int64_t>());
    }
  }
  c.rope_sections = {};
  for (size_t i = 0; i < s.size(); ++i) c.rope_sections[i] = static_cast<int32_t>(s[i]);
  c.rope_sections_interleaved = c.arch->interleaved_mrope;  // Qwen3-VL's, mrope_interleaved
  return Status::ok();
}

// Gemma 3's local/global layers, RoPE bases and attention scale from config.json.
Status gemma3_from_hf(const nlohmann::json& j, const nlohmann::json* local_rope, ModelConfig& c,
                      const std::string& where) {
  for (const char* cap : {"attn_logit_softcapping", "final_logit_softcapping"})
    if (j.contains(cap) && !j[cap].is_null())
      return bad(where, std::string(cap) + " (Gemma 2's soft-capping) is not supported");
  SLUICE_ASSIGN_OR_RETURN(c.sliding_window, json_int(j, "sliding_window", 4096, where));
  SLUICE_ASSIGN_OR_RETURN(c.sliding_window_pattern,
                          json_int(j, "sliding_window_pattern", 6, where));
  if (auto it = j.find("layer_types"); it != j.end() && it->is_array()) {
    // The pattern that layer_types spells: global at (i + 1) % pattern == 0, and nowhere else.
    int64_t pattern = 0;
    for (size_t i = 0; i < it->size() && !pattern; ++i)
      if ((*it)[i] == "full_attention") pattern = static_cast<int64_t>(i) + 1;
    c.sliding_window_pattern = pattern;
    for (size_t i = 0; i < it->size(); ++i)
      if (((*it)[i] == "full_attention") == c.is_sliding(static_cast<int64_t>(i)))
        return bad(where,
                   "layer_types: only a regular pattern of sliding and full layers is supported");
  }
  SLUICE_ASSIGN_OR_RETURN(c.rope_theta_local,
                          json_float(j, "rope_local_base_freq", 10000.0f, where));
  if (local_rope) {  // transformers v5: rope_parameters.sliding_attention
    SLUICE_ASSIGN_OR_RETURN(c.rope_theta_local,
                            json_float(*local_rope, "rope_theta", c.rope_theta_local, where));
  }
  SLUICE_ASSIGN_OR_RETURN(
      const float q, json_float(j, "query_pre_attn_scalar", static_cast<float>(c.head_dim), where));
  if (!(q > 0.0f)) return bad(where, "query_pre_attn_scalar must be > 0");
  c.query_scale = 1.0f / std::sqrt(q);
  return Status::ok();
}

// gpt-oss: alternating sliding and full layers, experts, sinks and the clamped SwiGLU.
Status gpt_oss_from_hf(const nlohmann::json& j, ModelConfig& c, const std::string& where) {
  SLUICE_ASSIGN_OR_RETURN(c.sliding_window, json_int(j, "sliding_window", 128, where));
  c.sliding_window_pattern = 2;  // layer_types: sliding, full, sliding, full, ...
  if (auto it = j.find("layer_types"); it != j.end() && it->is_array())
    for (size_t i = 0; i < it->size(); ++i)
      if (((*it)[i] == "full_attention") == c.is_sliding(static_cast<int64_t>(i)))
        return bad(where, "layer_types: only alternating sliding and full layers are supported");
  c.rope_theta_local = c.rope_theta;
  SLUICE_ASSIGN_OR_RETURN(c.num_experts, json_int(j, "num_local_experts", -1, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_experts_used, json_int(j, "num_experts_per_tok", -1, where));
  c.expert_intermediate_size = c.intermediate_size;
  c.attention_sinks = true;
  SLUICE_ASSIGN_OR_RETURN(c.swiglu_limit, json_float(j, "swiglu_limit", 7.0f, where));
  if (!(c.swiglu_limit > 0.0f)) return bad(where, "swiglu_limit must be > 0");
  return Status::ok();
}

}  // namespace

Status ModelConfig::validate() const {
  auto fail = [](const std::string& what) { return Status::error("config", what); };
  if (!arch) return fail("no architecture");
  if (vocab_size <= 0 || hidden_size <= 0 || intermediate_size <= 0 || num_layers <= 0 ||
      num_heads <= 0 || num_kv_heads <= 0 || head_dim <= 0)
    return fail(
        "sizes must be positive (vocab, hidden, intermediate, layers, heads, kv heads, head_dim)");
  if (num_heads % num_kv_heads != 0)
    return fail("num_attention_heads (" + std::to_string(num_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(num_kv_heads) +
                ")");
  if (head_dim % 2 != 0) return fail("head_dim must be even for RoPE");
  if (!(rms_norm_eps > 0.0f)) return fail("rms_norm_eps must be > 0");
  if (!(rope_theta > 0.0f)) return fail("rope_theta must be > 0");
  if (hidden_size > (1 << 20) || num_layers > 4096 || vocab_size > (1 << 24))
    return fail("implausible sizes");
  if (num_experts < 0 || num_experts > 4096) return fail("implausible expert count");
  if (sliding_window < 0) return fail("sliding_window must be >= 0");
  if (num_experts > 0 &&
      (num_experts_used <= 0 || num_experts_used > num_experts || expert_intermediate_size <= 0))
    return fail("a mixture of experts needs 0 < experts per token (" +
                std::to_string(num_experts_used) + ") <= experts (" + std::to_string(num_experts) +
                ") and a positive expert width");
  if (rotary_dim < 0 || rotary_dim > head_dim || rotary_dim % 2 != 0)
    return fail("the rotary dimension count must be even and at most head_dim");
  if (arch && arch->mrope) {
    int64_t pairs = 0;
    for (int32_t s : rope_sections) pairs += s;
    if (*std::min_element(rope_sections.begin(), rope_sections.end()) < 0 || !mrope() ||
        pairs > rope_dim() / 2)
      return fail("M-RoPE sections must be >= 0, not all zero, and cover at most the " +
                  std::to_string(rope_dim() / 2) + " rotated pairs; got " + std::to_string(pairs));
  }
  if (num_deepstack_layers < 0 || num_deepstack_layers >= std::max<int64_t>(num_layers, 1))
    return fail("deepstack layers (" + std::to_string(num_deepstack_layers) +
                ") must be >= 0 and fewer than the layers");
  if (!recurrent_layers.empty()) {
    if (static_cast<int64_t>(recurrent_layers.size()) != num_layers)
      return fail("one recurrent-layer flag per layer is needed");
    if (linear_num_k_heads <= 0 || linear_num_v_heads <= 0 || linear_head_k_dim <= 0 ||
        linear_head_v_dim <= 0 || linear_num_v_heads % linear_num_k_heads != 0)
      return fail("linear attention needs positive head counts and dims, value heads (" +
                  std::to_string(linear_num_v_heads) + ") a multiple of key heads (" +
                  std::to_string(linear_num_k_heads) + ")");
    if (linear_head_k_dim > 1024 || linear_head_v_dim > 1024 || linear_num_v_heads > 4096)
      return fail("implausible linear attention sizes");
    if (linear_conv_kernel < 2 || linear_conv_kernel > 16)
      return fail("linear attention conv kernel size " + std::to_string(linear_conv_kernel) +
                  " is not in [2, 16]");
  }
  return Status::ok();
}

std::vector<float> ModelConfig::rope_inv_freq_local() const {
  ModelConfig local = *this;
  local.rope_theta = rope_theta_local;
  local.rope_scaling = RopeScaling{};
  return local.rope_inv_freq();
}

float ModelConfig::rope_attention_factor() const {
  if (rope_scaling.type != "yarn") return 1.0f;
  if (rope_scaling.attention_factor > 0.0f) return rope_scaling.attention_factor;
  return rope_scaling.factor <= 1.0f
             ? 1.0f
             : static_cast<float>(0.1 * std::log(static_cast<double>(rope_scaling.factor)) + 1.0);
}

float ModelConfig::attention_scale() const {
  const float base =
      query_scale > 0.0f ? query_scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
  const float m = rope_attention_factor();
  return base * m * m;
}

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int64_t dim = rope_dim(), half = dim / 2;
  std::vector<float> inv(half);
  // YaRN's ramp: pair i keeps its frequency below dimension `low`, is interpolated by `factor`
  // above `high`, and blends linearly between.
  double low = 0.0, high = 0.0;
  if (rope_scaling.type == "yarn") {
    auto dim_of = [&](double rotations) {
      return dim *
             std::log(rope_scaling.original_max_position_embeddings / (rotations * 2.0 * M_PI)) /
             (2.0 * std::log(static_cast<double>(rope_theta)));
    };
    low = dim_of(rope_scaling.beta_fast), high = dim_of(rope_scaling.beta_slow);
    if (rope_scaling.truncate) low = std::floor(low), high = std::ceil(high);
    low = std::max(low, 0.0), high = std::min(high, static_cast<double>(dim - 1));
    if (high == low) high += 0.001;
  }
  for (int64_t i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(static_cast<double>(rope_theta), (2.0 * i) / dim);
    if (rope_scaling.type == "yarn") {
      const double keep = 1.0 - std::clamp((i - low) / (high - low), 0.0, 1.0);
      f = f / rope_scaling.factor * (1.0 - keep) + f * keep;
    } else if (rope_scaling.type == "linear") {
      f /= rope_scaling.factor;
    } else if (rope_scaling.type == "llama3") {
      // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
      const double old_ctx = static_cast<double>(rope_scaling.original_max_position_embeddings);
      const double low_wavelen = old_ctx / rope_scaling.low_freq_factor;
      const double high_wavelen = old_ctx / rope_scaling.high_freq_factor;
      const double wavelen = 2.0 * M_PI / f;
      if (wavelen > low_wavelen) {
        f /= rope_scaling.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_ctx / wavelen - rope_scaling.low_freq_factor) /
                              (rope_scaling.high_freq_factor - rope_scaling.low_freq_factor);
        f = (1.0 - smooth) * f / rope_scaling.factor + smooth * f;
      }
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

Result<ModelConfig> config_from_hf_json(const nlohmann::json& outer, const std::string& where) {
  if (!outer.is_object()) return bad(where, "config.json is not a JSON object");
  std::string architecture;
  if (auto it = outer.find("architectures");
      it != outer.end() && it->is_array() && !it->empty() && (*it)[0].is_string())
    architecture = (*it)[0].get<std::string>();
  const std::string model_type = outer.value("model_type", std::string());
  ModelConfig c;
  c.arch = find_arch_by_hf(architecture, model_type);
  const std::string name = architecture.empty() ? model_type : architecture;
  if (!c.arch && looks_multimodal(outer, architecture))
    return bad(where, "unsupported vision-language model '" + name + "' (model_type '" +
                          model_type + "'; supported: " + supported_vlm_types() + ")");
  if (!c.arch)
    return bad(where, "unsupported architecture '" + name +
                          "' (supported: llama, mistral, qwen2, qwen3, qwen3_moe, gemma3_text, "
                          "gpt_oss, qwen3_5, qwen3_5_moe, qwen3_next; vision-language: " +
                          supported_vlm_types() + ")");
  // A multimodal checkpoint keeps the language model's settings in text_config (Qwen2/2.5-VL
  // saved by transformers 4.x: at the top level), over its text config class's defaults.
  const VlmFamily* vlm = find_vlm_family(architecture, model_type);
  const nlohmann::json vlm_text = vlm ? vlm_text_config(outer, *vlm) : nlohmann::json();
  const nlohmann::json& j =
      vlm ? vlm_text
      : c.arch->hybrid && outer.contains("text_config") && outer["text_config"].is_object()
          ? outer["text_config"]
          : outer;
  SLUICE_ASSIGN_OR_RETURN(c.vocab_size, json_int(j, "vocab_size", -1, where));
  SLUICE_ASSIGN_OR_RETURN(c.hidden_size, json_int(j, "hidden_size", -1, where));
  // A mixture of experts may have no dense width (Qwen3.5 MoE): the experts' then stands in.
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size,
                          json_int(j, "intermediate_size", c.arch->moe ? 0 : -1, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, json_int(j, "num_hidden_layers", -1, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, json_int(j, "num_attention_heads", -1, where));
  SLUICE_ASSIGN_OR_RETURN(c.num_kv_heads, json_int(j, "num_key_value_heads", c.num_heads, where));
  const int64_t default_head_dim = c.hidden_size / c.num_heads;
  SLUICE_ASSIGN_OR_RETURN(c.head_dim, json_int(j, "head_dim", default_head_dim, where));
  SLUICE_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          json_int(j, "max_position_embeddings", 4096, where));
  SLUICE_ASSIGN_OR_RETURN(c.rms_norm_eps, json_float(j, "rms_norm_eps", 1e-6f, where));
  // transformers v5 moves rope settings under "rope_parameters" (Gemma 3: one entry per layer
  // type, "full_attention" and "sliding_attention").
  const nlohmann::json* rope = &j;
  const nlohmann::json* local_rope = nullptr;
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) {
    rope = &*it;
    if (auto f = it->find("full_attention"); f != it->end() && f->is_object()) rope = &*f;
    if (auto l = it->find("sliding_attention"); l != it->end() && l->is_object()) local_rope = &*l;
  }
  SLUICE_ASSIGN_OR_RETURN(const float theta,
                          json_float(j, "rope_theta", c.arch->default_rope_theta, where));
  SLUICE_ASSIGN_OR_RETURN(c.rope_theta, json_float(*rope, "rope_theta", theta, where));
  const nlohmann::json* scaling = rope != &j ? rope : nullptr;
  if (auto it = j.find("rope_scaling"); it != j.end()) scaling = &*it;
  if (scaling)
    SLUICE_RETURN_IF_ERROR(parse_rope_scaling(*scaling, &c.rope_scaling, c.arch->mrope, where));
  if (c.arch->mrope) SLUICE_RETURN_IF_ERROR(mrope_from_hf(scaling, c, where));
  if (c.arch->deepstack) {
    SLUICE_ASSIGN_OR_RETURN(c.num_deepstack_layers, vlm_deepstack_layers(outer, where));
  }
  c.tie_word_embeddings = j.value("tie_word_embeddings", c.arch->default_tie_word_embeddings);
  c.attention_bias = c.arch->attention_bias || j.value("attention_bias", false);
  c.qk_norm = c.arch->qk_norm;
  c.rope_interleaved = false;
  if (c.arch == &gemma3_arch()) SLUICE_RETURN_IF_ERROR(gemma3_from_hf(j, local_rope, c, where));
  if (c.arch == &gpt_oss_arch()) {
    SLUICE_RETURN_IF_ERROR(gpt_oss_from_hf(j, c, where));
  } else if (c.arch->moe) {
    SLUICE_ASSIGN_OR_RETURN(c.num_experts, json_int(j, "num_experts", -1, where));
    SLUICE_ASSIGN_OR_RETURN(c.num_experts_used, json_int(j, "num_experts_per_tok", -1, where));
    SLUICE_ASSIGN_OR_RETURN(c.expert_intermediate_size,
                            json_int(j, "moe_intermediate_size", -1, where));
    // transformers renormalizes by default for the hybrid Qwen models (Qwen3.5 MoE has no key),
    // and always for Qwen3-VL-MoE.
    c.norm_topk_prob = j.value("norm_topk_prob", c.arch->hybrid) || c.arch == &qwen3vlmoe_arch();
    if (j.value("decoder_sparse_step", 1) != 1 ||
        !j.value("mlp_only_layers", nlohmann::json::array()).empty())
      return bad(where,
                 "dense layers between the MoE layers (decoder_sparse_step, "
                 "mlp_only_layers) are not supported");
  }
  if (c.intermediate_size <= 0) c.intermediate_size = c.expert_intermediate_size;
  if (c.arch->hybrid) SLUICE_RETURN_IF_ERROR(hybrid_from_hf(j, c, where));
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

Result<ModelConfig> config_from_gguf(const GgufFile& g) {
  const std::string where = g.path();
  auto arch_name = g.get_string("general.architecture");
  if (!arch_name) return bad(where, "GGUF has no general.architecture");
  ModelConfig c;
  c.arch = find_arch_by_gguf(*arch_name);
  if (!c.arch)
    return bad(where, "unsupported architecture '" + *arch_name +
                          "' (supported: llama, qwen2, qwen2vl, qwen3, qwen3moe, gemma3, gpt-oss, "
                          "qwen35, qwen35moe, qwen3next)");
  const std::string a = *arch_name + ".";
  auto req = [&](const std::string& key, int64_t* out) -> Status {
    auto v = g.get_int(a + key);
    if (!v) return bad(where, "GGUF is missing " + a + key);
    *out = *v;
    return Status::ok();
  };
  SLUICE_RETURN_IF_ERROR(req("embedding_length", &c.hidden_size));
  if (c.arch->moe)  // only the experts' width matters to a model with no dense layer
    c.intermediate_size = g.get_int(a + "feed_forward_length").value_or(0);
  else
    SLUICE_RETURN_IF_ERROR(req("feed_forward_length", &c.intermediate_size));
  SLUICE_RETURN_IF_ERROR(req("block_count", &c.num_layers));
  SLUICE_RETURN_IF_ERROR(req("attention.head_count", &c.num_heads));
  c.num_kv_heads = g.get_int(a + "attention.head_count_kv").value_or(c.num_heads);
  c.head_dim = g.get_int(a + "attention.key_length")
                   .value_or(c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
  c.max_position_embeddings = g.get_int(a + "context_length").value_or(4096);
  c.rms_norm_eps =
      static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-6));
  c.rope_theta =
      static_cast<float>(g.get_float(a + "rope.freq_base").value_or(c.arch->default_rope_theta));
  if (auto t = g.get_string(a + "rope.scaling.type"); t && *t != "none") {
    if (*t != "linear" && *t != "yarn")
      return bad(where, "unsupported rope scaling type '" + *t + "'");
    RopeScaling& rs = c.rope_scaling;
    rs.type = *t;
    rs.factor = static_cast<float>(g.get_float(a + "rope.scaling.factor").value_or(1.0));
    if (*t == "yarn") {  // as llama.cpp applies it: the ramp's ends rounded outwards
      rs.original_max_position_embeddings =
          g.get_int(a + "rope.scaling.original_context_length").value_or(c.max_position_embeddings);
      rs.beta_fast =
          static_cast<float>(g.get_float(a + "rope.scaling.yarn_beta_fast").value_or(32));
      rs.beta_slow = static_cast<float>(g.get_float(a + "rope.scaling.yarn_beta_slow").value_or(1));
      rs.attention_factor =
          static_cast<float>(g.get_float(a + "rope.scaling.attn_factor").value_or(1.0)) *
          static_cast<float>(0.1 * std::log(std::max(1.0f, rs.factor)) + 1.0);
    }
  }
  if (auto v = g.get_int(a + "vocab_size")) {
    c.vocab_size = *v;
  } else if (auto toks = g.find("tokenizer.ggml.tokens")) {
    if (auto* arr = std::get_if<GgufArray>(&toks->v))
      c.vocab_size = static_cast<int64_t>(arr->size());
  }
  c.tie_word_embeddings = g.tensor("output.weight") == nullptr;
  c.attention_bias = c.arch->attention_bias;
  c.qk_norm = c.arch->qk_norm;
  c.rope_interleaved = c.arch->gguf_rope_interleaved;
  if (c.arch->mrope) {  // llama.cpp's converter pads Qwen2-VL's 3 sections with a 0
    auto s = g.get_int_array(a + "rope.dimension_sections");
    if (!s || s->empty() || s->size() > 4)
      return bad(where, "GGUF needs " + a + "rope.dimension_sections (up to 4 integers)");
    for (size_t i = 0; i < s->size(); ++i) {
      if ((*s)[i] < 0 || (*s)[i] > (1 << 16))
        return bad(where, a + "rope.dimension_sections holds " + std::to_string((*s)[i]));
      c.rope_sections[i] = static_cast<int32_t>((*s)[i]);
    }
    c.rope_sections_interleaved = c.arch->interleaved_mrope;
  }
  if (c.arch->deepstack) c.num_deepstack_layers = g.get_int(a + "n_deepstack_layers").value_or(0);
  if (c.arch == &gpt_oss_arch()) {
    SLUICE_RETURN_IF_ERROR(req("attention.sliding_window", &c.sliding_window));
    c.sliding_window_pattern = 2;  // as llama.cpp reads gpt-oss: even layers slide
    c.rope_theta_local = c.rope_theta;
    c.attention_sinks = true;
    c.swiglu_limit = 7.0f;  // llama.cpp's constant for gpt-oss (not in the file)
  }
  if (c.arch == &gemma3_arch()) {
    c.sliding_window = g.get_int(a + "attention.sliding_window").value_or(0);
    c.sliding_window_pattern = 6;  // as llama.cpp reads Gemma 3
    c.rope_theta_local =
        static_cast<float>(g.get_float(a + "rope.freq_base_swa").value_or(10000.0));
    // llama.cpp: 1/sqrt(hidden / heads) for the 27B model (62 layers), else 1/sqrt(head_dim).
    const double q = c.num_layers == 62 ? double(c.hidden_size) / c.num_heads : double(c.head_dim);
    c.query_scale = static_cast<float>(1.0 / std::sqrt(q));
  }
  if (c.arch->moe) {
    SLUICE_RETURN_IF_ERROR(req("expert_count", &c.num_experts));
    SLUICE_RETURN_IF_ERROR(req("expert_used_count", &c.num_experts_used));
    SLUICE_RETURN_IF_ERROR(req("expert_feed_forward_length", &c.expert_intermediate_size));
    // llama.cpp renormalizes the routing weights of Qwen3 MoE and of the hybrid Qwen models.
    c.norm_topk_prob =
        c.arch == &qwen3_moe_arch() || c.arch == &qwen3vlmoe_arch() || c.arch->hybrid;
    if (c.intermediate_size <= 0) c.intermediate_size = c.expert_intermediate_size;
  }
  if (c.arch->hybrid) SLUICE_RETURN_IF_ERROR(hybrid_from_gguf(g, c));
  SLUICE_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace sluice
