// GGUF tensors by canonical name; quantized types are repacked into the internal family.
#include <map>

#include "formats/gguf.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

namespace sluice {

std::string gguf_tensor_name(const std::string& hf, const std::string& arch) {
  // Gemma's four norms per block: after attention, before and after the MLP (gpt-oss: the first,
  // which is its norm before the MLP).
  static const std::map<std::string, std::string> gemma = {
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
  };
  static const std::map<std::string, std::string> top = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  if (auto it = top.find(hf); it != top.end()) return it->second;
  static const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) != 0) return "";
  const size_t dot = hf.find('.', prefix.size());
  if (dot == std::string::npos) return "";
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  const std::string rest = hf.substr(dot + 1);
  static const std::map<std::string, std::string> per_layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
      {"mlp.experts.gate_proj.weight", "ffn_gate_exps.weight"},
      {"mlp.experts.up_proj.weight", "ffn_up_exps.weight"},
      {"mlp.experts.down_proj.weight", "ffn_down_exps.weight"},
      // gpt-oss
      {"self_attn.o_proj.bias", "attn_output.bias"},
      {"self_attn.sinks", "attn_sinks.weight"},
      {"mlp.router.weight", "ffn_gate_inp.weight"},
      {"mlp.router.bias", "ffn_gate_inp.bias"},
      {"mlp.experts.gate_proj.bias", "ffn_gate_exps.bias"},
      {"mlp.experts.up_proj.bias", "ffn_up_exps.bias"},
      {"mlp.experts.down_proj.bias", "ffn_down_exps.bias"},
  };
  // Qwen3.5 / Qwen3-Next: the norm before the MLP, the gated delta-net and the shared expert.
  static const std::map<std::string, std::string> hybrid = {
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"linear_attn.in_proj_qkv.weight", "attn_qkv.weight"},
      {"linear_attn.in_proj_z.weight", "attn_gate.weight"},
      {"linear_attn.in_proj_b.weight", "ssm_beta.weight"},
      {"linear_attn.in_proj_a.weight", "ssm_alpha.weight"},
      {"linear_attn.in_proj_ba.weight", "ssm_ba.weight"},
      {"linear_attn.conv1d.weight", "ssm_conv1d.weight"},
      {"linear_attn.dt_bias", "ssm_dt.bias"},
      {"linear_attn.A_log", "ssm_a"},  // stored as -exp(A_log)
      {"linear_attn.norm.weight", "ssm_norm.weight"},
      {"linear_attn.out_proj.weight", "ssm_out.weight"},
      {"mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"},
      {"mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"},
      {"mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight"},
  };
  if (arch == "qwen35" || arch == "qwen35moe" || arch == "qwen3next")
    if (auto h = hybrid.find(rest); h != hybrid.end()) return "blk." + layer + "." + h->second;
  if (arch == "gemma3" || (arch == "gpt-oss" && rest == "post_attention_layernorm.weight"))
    if (auto g = gemma.find(rest); g != gemma.end()) return "blk." + layer + "." + g->second;
  auto it = per_layer.find(rest);
  if (it == per_layer.end()) return "";
  return "blk." + layer + "." + it->second;
}

namespace {

class GgufWeightSource final : public WeightSource {
 public:
  GgufWeightSource(const GgufFile& g, OptionalDTypes dtypes)
      : g_(g), dtypes_(dtypes), arch_(g.get_string("general.architecture").value_or("")) {}

  bool has(const std::string& name) const override { return find(name) != nullptr; }

  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const override {
    SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, require(name));
    // ggml order: shape[0] = cols (contiguous), shape[1] = rows.
    if (t->shape.size() != 2 || t->shape[0] != cols || t->shape[1] != rows)
      return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(cols) + ", " + std::to_string(rows) + "] (ggml order)");
    auto w = import_gguf_tensor(*t, rows, cols, dtypes_);
    if (!w) return fail("tensor '" + t->name + "': " + w.error());
    return rows8_if_picked(std::move(w), rows, dtypes_);
  }

  Result<Weight> experts(const std::string& name, int64_t num_experts, int64_t rows,
                         int64_t cols) const override {
    SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, require(name));
    // ggml order: [cols, rows, experts].
    if (t->shape.size() != 3 || t->shape[0] != cols || t->shape[1] != rows ||
        t->shape[2] != num_experts)
      return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(cols) + ", " + std::to_string(rows) + ", " +
                  std::to_string(num_experts) + "] (ggml order)");
    auto w = import_gguf_tensor(*t, num_experts * rows, cols, dtypes_);
    if (!w) return fail("tensor '" + t->name + "': " + w.error());
    return rows8_if_picked(std::move(w), rows, dtypes_);
  }

  Result<std::vector<float>> expert_biases(const std::string& name, int64_t num_experts,
                                           int64_t n) const override {
    SLUICE_ASSIGN_OR_RETURN(Weight w, matrix(name, num_experts, n));
    std::vector<float> out(num_experts * n);
    for (int64_t e = 0; e < num_experts; ++e) dequantize_row(w, e, out.data() + e * n);
    return out;
  }

  Result<std::vector<float>> vector(const std::string& name, int64_t n) const override {
    SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, require(name));
    if (t->shape.size() != 1 || t->shape[0] != n)
      return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(n) + "]");
    auto w = import_gguf_tensor(*t, 1, n);
    if (!w) return fail("tensor '" + t->name + "': " + w.error());
    std::vector<float> out(n);
    dequantize_row(*w, 0, out.data());
    return out;
  }

  Result<std::vector<float>> conv_kernel(const std::string& name, int64_t channels,
                                         int64_t kernel) const override {
    auto m = matrix(name, channels, kernel);
    if (!m)
      return Status::error("gguf", m.error() + " (a depthwise conv of kernel size " +
                                       std::to_string(kernel) + " over " +
                                       std::to_string(channels) + " channels)");
    const Weight& w = *m;
    std::vector<float> out(channels * kernel);
    for (int64_t c = 0; c < channels; ++c) dequantize_row(w, c, out.data() + c * kernel);
    return out;
  }

 private:
  const GgufTensorInfo* find(const std::string& name) const {
    const std::string g = gguf_tensor_name(name, arch_);
    return g.empty() ? nullptr : g_.tensor(g);
  }
  Result<const GgufTensorInfo*> require(const std::string& name) const {
    const GgufTensorInfo* t = find(name);
    if (!t) {
      const std::string g = gguf_tensor_name(name, arch_);
      return fail("missing tensor '" + (g.empty() ? name : g) + "'");
    }
    return t;
  }
  Status fail(const std::string& what) const {
    return Status::error("gguf", g_.path() + ": " + what);
  }

  const GgufFile& g_;
  OptionalDTypes dtypes_;
  std::string arch_;  // general.architecture: some names depend on it
};

}  // namespace

std::unique_ptr<WeightSource> make_gguf_weight_source(const GgufFile& gguf, OptionalDTypes dtypes) {
  return std::make_unique<GgufWeightSource>(gguf, dtypes);
}

}  // namespace sluice
