// Model::load: picks the file format, reads the config, tokenizer, chat template and weights.
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/gguf.h"
#include "model/arch/arch_spec.h"
#include "model/load/hybrid_weights.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"
#include "model/model.h"

namespace sluice {

struct Model::Files {
  std::unique_ptr<GgufFile> gguf;
  std::unique_ptr<WeightSource> source;
};

Model::Model() = default;
Model::~Model() = default;

namespace {

bool is_directory(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<nlohmann::json> read_json(const std::string& path, const char* where) {
  std::ifstream in(path);
  if (!in) return Status::error(where, path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error(where, path + ": invalid JSON");
  return j;
}

// tokenizer_config.json "chat_template": a string, or a list of {name, template}.
std::string chat_template_from_config(const nlohmann::json& tc) {
  auto it = tc.find("chat_template");
  if (it == tc.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array())
    for (const auto& e : *it)
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template"))
        return e["template"].get<std::string>();
  return "";
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path, OptionalDTypes dtypes) {
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  m->files_ = std::make_unique<Files>();
  if (is_directory(path)) {
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json cfg, read_json(path + "/config.json", "config"));
    SLUICE_ASSIGN_OR_RETURN(m->config_, config_from_hf_json(cfg, path + "/config.json"));
    SLUICE_ASSIGN_OR_RETURN(m->files_->source, make_safetensors_weight_source(path, cfg, dtypes));
    SLUICE_ASSIGN_OR_RETURN(m->tokenizer_, load_tokenizer_json(path + "/tokenizer.json"));
    struct stat st {};
    if (stat((path + "/tokenizer_config.json").c_str(), &st) == 0) {
      SLUICE_ASSIGN_OR_RETURN(nlohmann::json tc,
                              read_json(path + "/tokenizer_config.json", "config"));
      m->chat_template_ = chat_template_from_config(tc);
    }
    if (std::ifstream jt(path + "/chat_template.jinja"); jt) {
      std::stringstream ss;
      ss << jt.rdbuf();
      m->chat_template_ = ss.str();
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(m->files_->gguf, GgufFile::open(path));
    const GgufFile& g = *m->files_->gguf;
    SLUICE_ASSIGN_OR_RETURN(m->config_, config_from_gguf(g));
    m->files_->source = make_gguf_weight_source(g, dtypes);
    SLUICE_ASSIGN_OR_RETURN(m->tokenizer_, load_tokenizer_gguf(g));
    m->chat_template_ = g.get_string("tokenizer.chat_template").value_or("");
  }
  if (m->tokenizer_->vocab_size() > m->config_.vocab_size)
    return Status::error("model", path + ": tokenizer has " +
                                      std::to_string(m->tokenizer_->vocab_size()) +
                                      " tokens but the model's vocabulary is " +
                                      std::to_string(m->config_.vocab_size));
  SLUICE_RETURN_IF_ERROR(m->load_weights(*m->files_->source, m->files_->gguf != nullptr));
  m->inv_freq_ = m->config_.rope_inv_freq();
  if (m->config_.sliding_window > 0) m->inv_freq_local_ = m->config_.rope_inv_freq_local();
  if (m->files_->gguf) {
    // llama.cpp stores Llama 3 RoPE scaling as per-frequency divisors in rope_freqs.weight.
    if (const GgufTensorInfo* rf = m->files_->gguf->tensor("rope_freqs.weight")) {
      const int64_t half = m->config_.rope_dim() / 2;
      if (rf->shape.size() != 1 || rf->shape[0] != half)
        return Status::error(
            "gguf", path + ": rope_freqs.weight must have " + std::to_string(half) + " elements");
      SLUICE_ASSIGN_OR_RETURN(Weight w, import_gguf_tensor(*rf, 1, half));
      std::vector<float> factors(half);
      dequantize_row(w, 0, factors.data());
      for (int64_t i = 0; i < half; ++i) m->inv_freq_[i] /= factors[i];
    }
  }
  return m;
}

Status Model::load_weights(const WeightSource& src, bool gguf) {
  const ModelConfig& c = config_;
  const bool norms_offset_one = c.arch->norms_offset_one && !gguf;
  const int64_t H = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;
  SLUICE_ASSIGN_OR_RETURN(embed_, src.matrix("model.embed_tokens.weight", V, H));
  if (src.has("lm_head.weight")) {
    SLUICE_ASSIGN_OR_RETURN(lm_head_, src.matrix("lm_head.weight", V, H));
  } else if (c.tie_word_embeddings) {
    lm_head_ = embed_;
  } else {
    return src.matrix("lm_head.weight", V, H).status();  // the "missing tensor" error
  }
  SLUICE_ASSIGN_OR_RETURN(final_norm_, src.vector("model.norm.weight", H));
  layers_.resize(c.num_layers);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights& L = layers_[i];
    SLUICE_ASSIGN_OR_RETURN(L.attn_norm, src.vector(p + "input_layernorm.weight", H));
    SLUICE_ASSIGN_OR_RETURN(L.ffn_norm, src.vector(p + "post_attention_layernorm.weight", H));
    const bool recurrent = c.is_recurrent(i);
    if (recurrent) {
      SLUICE_RETURN_IF_ERROR(load_delta_net(src, c, p, gguf, L));
    } else {
      if (c.attention_output_gate) {
        SLUICE_RETURN_IF_ERROR(load_gated_query(src, c, p, L));
      } else {
        SLUICE_ASSIGN_OR_RETURN(L.wq, src.matrix(p + "self_attn.q_proj.weight", q_dim, H));
      }
      SLUICE_ASSIGN_OR_RETURN(L.wk, src.matrix(p + "self_attn.k_proj.weight", kv_dim, H));
      SLUICE_ASSIGN_OR_RETURN(L.wv, src.matrix(p + "self_attn.v_proj.weight", kv_dim, H));
      SLUICE_ASSIGN_OR_RETURN(L.wo, src.matrix(p + "self_attn.o_proj.weight", H, q_dim));
    }
    if (c.num_experts > 0) {
      const int64_t E = c.num_experts, EI = c.expert_intermediate_size;
      const std::string router = c.attention_sinks ? "mlp.router." : "mlp.gate.";  // gpt-oss
      SLUICE_ASSIGN_OR_RETURN(L.w_router, src.matrix(p + router + "weight", E, H));
      SLUICE_ASSIGN_OR_RETURN(L.w_gate_exps,
                              src.experts(p + "mlp.experts.gate_proj.weight", E, EI, H));
      SLUICE_ASSIGN_OR_RETURN(L.w_up_exps, src.experts(p + "mlp.experts.up_proj.weight", E, EI, H));
      SLUICE_ASSIGN_OR_RETURN(L.w_down_exps,
                              src.experts(p + "mlp.experts.down_proj.weight", E, H, EI));
      if (c.shared_expert_intermediate_size > 0)
        SLUICE_RETURN_IF_ERROR(load_shared_expert(src, c, p, L));
    } else {
      SLUICE_ASSIGN_OR_RETURN(L.w_gate, src.matrix(p + "mlp.gate_proj.weight", I, H));
      SLUICE_ASSIGN_OR_RETURN(L.w_up, src.matrix(p + "mlp.up_proj.weight", I, H));
      SLUICE_ASSIGN_OR_RETURN(L.w_down, src.matrix(p + "mlp.down_proj.weight", H, I));
    }
    if (c.attention_bias) {
      SLUICE_ASSIGN_OR_RETURN(L.q_bias, src.vector(p + "self_attn.q_proj.bias", q_dim));
      SLUICE_ASSIGN_OR_RETURN(L.k_bias, src.vector(p + "self_attn.k_proj.bias", kv_dim));
      SLUICE_ASSIGN_OR_RETURN(L.v_bias, src.vector(p + "self_attn.v_proj.bias", kv_dim));
    }
    if (c.attention_sinks) {  // gpt-oss
      const int64_t E = c.num_experts, EI = c.expert_intermediate_size;
      SLUICE_ASSIGN_OR_RETURN(L.o_bias, src.vector(p + "self_attn.o_proj.bias", H));
      SLUICE_ASSIGN_OR_RETURN(L.sinks, src.vector(p + "self_attn.sinks", c.num_heads));
      SLUICE_ASSIGN_OR_RETURN(L.router_bias, src.vector(p + "mlp.router.bias", E));
      SLUICE_ASSIGN_OR_RETURN(L.gate_exps_bias,
                              src.expert_biases(p + "mlp.experts.gate_proj.bias", E, EI));
      SLUICE_ASSIGN_OR_RETURN(L.up_exps_bias,
                              src.expert_biases(p + "mlp.experts.up_proj.bias", E, EI));
      SLUICE_ASSIGN_OR_RETURN(L.down_exps_bias,
                              src.expert_biases(p + "mlp.experts.down_proj.bias", E, H));
    }
    if (c.qk_norm && !recurrent) {
      SLUICE_ASSIGN_OR_RETURN(L.q_norm, src.vector(p + "self_attn.q_norm.weight", c.head_dim));
      SLUICE_ASSIGN_OR_RETURN(L.k_norm, src.vector(p + "self_attn.k_norm.weight", c.head_dim));
    }
    if (c.arch->sliding_window_layers) {         // Gemma: a norm after attention and after the MLP
      L.post_attn_norm = std::move(L.ffn_norm);  // its "post_attention_layernorm"
      SLUICE_ASSIGN_OR_RETURN(L.ffn_norm, src.vector(p + "pre_feedforward_layernorm.weight", H));
      SLUICE_ASSIGN_OR_RETURN(L.post_ffn_norm,
                              src.vector(p + "post_feedforward_layernorm.weight", H));
    }
    if (norms_offset_one)
      for (auto* v :
           {&L.attn_norm, &L.ffn_norm, &L.post_attn_norm, &L.post_ffn_norm, &L.q_norm, &L.k_norm})
        for (float& w : *v) w += 1.0f;
  }
  if (norms_offset_one)
    for (float& w : final_norm_) w += 1.0f;
  return Status::ok();
}

}  // namespace sluice
