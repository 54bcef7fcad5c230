#include "convert/model_writer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/half.h"
#include "convert/gguf_tokenizer_metadata.h"
#include "convert/hf_vlm_layout.h"
#include "convert/hybrid_gguf.h"
#include "convert/quantize.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/arch/arch_spec.h"
#include "model/load/weight_source.h"
#include "model/vlm_config.h"

namespace sluice {

namespace fs = std::filesystem;

Result<OutputFormat> parse_output_format(const std::string& name) {
  static const std::pair<const char*, OutputFormat> names[] = {
      {"gguf-f16", OutputFormat::kGgufF16},
      {"gguf-q8_0", OutputFormat::kGgufQ8_0},
      {"gguf-q4_0", OutputFormat::kGgufQ4_0},
      {"gguf-q4_1", OutputFormat::kGgufQ4_1},
      {"gguf-q4_k", OutputFormat::kGgufQ4_K},
      {"safetensors-bf16", OutputFormat::kSafetensorsBF16},
      {"mlx-4", OutputFormat::kMlx4},
      {"mlx-8", OutputFormat::kMlx8},
      {"gguf-mxfp4", OutputFormat::kGgufMxfp4},
      {"safetensors-mxfp4", OutputFormat::kSafetensorsMxfp4}};
  for (const auto& [n, f] : names)
    if (name == n) return f;
  return Status::error("make-model",
                       "unknown format '" + name +
                           "' (gguf-f16, gguf-q8_0, gguf-q4_0, gguf-q4_1, gguf-q4_k, "
                           "gguf-mxfp4, safetensors-bf16, safetensors-mxfp4, mlx-4, mlx-8)");
}

bool is_gguf_format(OutputFormat f) {
  return f != OutputFormat::kSafetensorsBF16 && f != OutputFormat::kSafetensorsMxfp4 &&
         f != OutputFormat::kMlx4 && f != OutputFormat::kMlx8;
}

Result<int64_t> tokenizer_vocab_size(const std::string& path) {
  return count_tokenizer_tokens(path);
}

nlohmann::json hf_config_json(const ModelConfig& c, const WriteOptions& o) {
  nlohmann::json j;
  j["architectures"] = {c.arch->hf_architectures.front()};
  j["model_type"] = c.arch->hf_model_types.front();
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_layers;
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["hidden_act"] = "silu";
  j["attention_bias"] = c.attention_bias;
  if (c.arch->sliding_window_layers) {
    j["sliding_window"] = c.sliding_window;
    j["sliding_window_pattern"] = c.sliding_window_pattern;
    j["rope_local_base_freq"] = c.rope_theta_local;
    // An integer where it is one (transformers' Gemma 3 config takes only an int).
    const double q = 1.0 / (double(c.query_scale) * c.query_scale);
    if (std::abs(q - std::round(q)) < 1e-3)
      j["query_pre_attn_scalar"] = static_cast<int64_t>(std::llround(q));
    else
      j["query_pre_attn_scalar"] = q;
    j["hidden_activation"] = "gelu_pytorch_tanh";
    j.erase("hidden_act");
  }
  if (c.attention_sinks) {  // gpt-oss
    j["num_local_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.num_experts_used;
    j["experts_per_token"] = c.num_experts_used;
    j["sliding_window"] = c.sliding_window;
    nlohmann::json types = nlohmann::json::array();
    for (int64_t i = 0; i < c.num_layers; ++i)
      types.push_back(c.is_sliding(i) ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    j["swiglu_limit"] = c.swiglu_limit;
    j["initial_context_length"] = c.rope_scaling.original_max_position_embeddings;
  } else if (c.num_experts > 0) {
    j["num_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.num_experts_used;
    j["moe_intermediate_size"] = c.expert_intermediate_size;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["decoder_sparse_step"] = 1;
    j["mlp_only_layers"] = nlohmann::json::array();
  }
  if (c.arch->hybrid) {
    nlohmann::json types = nlohmann::json::array();
    for (int64_t i = 0; i < c.num_layers; ++i)
      types.push_back(c.is_recurrent(i) ? "linear_attention" : "full_attention");
    j["layer_types"] = types;
    j["linear_num_key_heads"] = c.linear_num_k_heads;
    j["linear_num_value_heads"] = c.linear_num_v_heads;
    j["linear_key_head_dim"] = c.linear_head_k_dim;
    j["linear_value_head_dim"] = c.linear_head_v_dim;
    j["linear_conv_kernel_dim"] = c.linear_conv_kernel;
    j["partial_rotary_factor"] = static_cast<double>(c.rope_dim()) / c.head_dim;
    j["attn_output_gate"] = c.attention_output_gate;
    if (c.shared_expert_intermediate_size > 0)
      j["shared_expert_intermediate_size"] = c.shared_expert_intermediate_size;
  }
  j["torch_dtype"] = o.float_dtype == "F32"   ? "float32"
                     : o.float_dtype == "F16" ? "float16"
                                              : "bfloat16";
  if (c.rope_scaling.type.empty()) {
    j["rope_scaling"] = nullptr;
  } else if (c.rope_scaling.type == "yarn") {  // ends rounded outwards, as mlx-lm always does
    j["rope_scaling"] = {
        {"rope_type", "yarn"},
        {"factor", c.rope_scaling.factor},
        {"beta_fast", c.rope_scaling.beta_fast},
        {"beta_slow", c.rope_scaling.beta_slow},
        {"truncate", c.rope_scaling.truncate},
        {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  } else {
    j["rope_scaling"] = {
        {"rope_type", c.rope_scaling.type},
        {"factor", c.rope_scaling.factor},
        {"low_freq_factor", c.rope_scaling.low_freq_factor},
        {"high_freq_factor", c.rope_scaling.high_freq_factor},
        {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  }
  if (c.mrope()) {  // M-RoPE's sections, as Qwen3-VL (interleaved) and Qwen2.5-VL publish them
    const nlohmann::json sections = {c.rope_sections[0], c.rope_sections[1], c.rope_sections[2]};
    if (c.rope_sections_interleaved)
      j["rope_scaling"] = {
          {"rope_type", "default"}, {"mrope_section", sections}, {"mrope_interleaved", true}};
    else  // mlx-vlm requires "type"
      j["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", sections}};
  }
  if (o.format == OutputFormat::kSafetensorsMxfp4) {  // as transformers writes gpt-oss
    j["quantization_config"] = {{"quant_method", "mxfp4"},
                                {"modules_to_not_convert",
                                 {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                  "model.embed_tokens", "lm_head"}}};
  }
  if (o.format == OutputFormat::kMlx4 || o.format == OutputFormat::kMlx8) {
    j["quantization"] = {{"group_size", o.group_size},
                         {"bits", o.format == OutputFormat::kMlx4 ? 4 : 8}};
  }
  return j;
}

namespace {

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

// The GGUF type of one tensor: k-quant files keep the sensitive matrices at 6 bits (as Q4_K_M).
GgufType gguf_type_for(const TensorSpec& t, OutputFormat f) {
  if (t.kind == TensorSpec::Kind::kNorm || t.kind == TensorSpec::Kind::kBias ||
      t.kind == TensorSpec::Kind::kSink || t.kind == TensorSpec::Kind::kConv ||
      t.kind == TensorSpec::Kind::kDecay || contains(t.name, "shared_expert_gate"))
    return GgufType::F32;
  // The MoE router (ffn_gate_inp) stays F32 in every format, as llama.cpp's converter keeps it.
  if (contains(t.name, "mlp.gate.weight") || contains(t.name, "mlp.router.weight"))
    return GgufType::F32;
  switch (f) {
    case OutputFormat::kGgufMxfp4:  // as gpt-oss ships: MXFP4 experts, the rest Q8_0
      if (t.experts > 0) return GgufType::MXFP4;
      return t.kind == TensorSpec::Kind::kEmbedding || t.name == "lm_head.weight" ? GgufType::F16
                                                                                  : GgufType::Q8_0;
    case OutputFormat::kGgufQ8_0:
      return GgufType::Q8_0;
    case OutputFormat::kGgufQ4_0:
      return GgufType::Q4_0;
    case OutputFormat::kGgufQ4_1:
      return GgufType::Q4_1;
    case OutputFormat::kGgufQ4_K:
      // Rows not a multiple of 256 take Q8_0, as llama.cpp's quantizer falls back (Gemma 3's 640).
      if (t.cols % 256 != 0) return GgufType::Q8_0;
      if (t.name == "lm_head.weight" || contains(t.name, "v_proj") || contains(t.name, "down_proj"))
        return GgufType::Q6_K;
      return GgufType::Q4_K;
    default:
      return GgufType::F16;
  }
}

uint32_t gguf_file_type(OutputFormat f) {
  switch (f) {
    case OutputFormat::kGgufQ8_0:
      return 7;
    case OutputFormat::kGgufQ4_0:
      return 2;
    case OutputFormat::kGgufQ4_1:
      return 3;
    case OutputFormat::kGgufQ4_K:
      return 15;  // Q4_K_M
    case OutputFormat::kGgufMxfp4:
      return 38;  // MOSTLY_MXFP4_MOE
    default:
      return 1;
  }
}

Status write_gguf(const ModelConfig& c, const std::vector<TensorSpec>& tensors,
                  const TensorProducer& produce, const WriteOptions& o, const std::string& out) {
  GgufWriter w;
  const std::string a = c.arch->gguf_architectures.front();
  w.add_string("general.architecture", a);
  w.add_string("general.name", o.name);
  w.add_uint32("general.file_type", gguf_file_type(o.format));
  w.add_uint32(a + ".vocab_size", static_cast<uint32_t>(c.vocab_size));
  w.add_uint32(a + ".context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.add_uint32(a + ".embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.add_uint32(a + ".block_count", static_cast<uint32_t>(c.num_layers));
  w.add_uint32(a + ".feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.add_uint32(a + ".attention.head_count", static_cast<uint32_t>(c.num_heads));
  w.add_uint32(a + ".attention.head_count_kv", static_cast<uint32_t>(c.num_kv_heads));
  w.add_uint32(a + ".attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.add_uint32(a + ".attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.add_uint32(a + ".rope.dimension_count", static_cast<uint32_t>(c.rope_dim()));
  w.add_float32(a + ".attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  w.add_float32(a + ".rope.freq_base", c.rope_theta);
  if (c.rope_scaling.type == "linear" || c.rope_scaling.type == "yarn") {
    w.add_string(a + ".rope.scaling.type", c.rope_scaling.type);
    w.add_float32(a + ".rope.scaling.factor", c.rope_scaling.factor);
  }
  if (c.rope_scaling.type == "yarn")
    w.add_uint32(a + ".rope.scaling.original_context_length",
                 static_cast<uint32_t>(c.rope_scaling.original_max_position_embeddings));
  if (c.sliding_window > 0)
    w.add_uint32(a + ".attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  if (c.mrope())
    w.add_int32_array(a + ".rope.dimension_sections",
                      std::vector<int32_t>(c.rope_sections.begin(), c.rope_sections.end()));
  if (c.arch->deepstack)  // Qwen3-VL: the converter writes it for every Qwen3-VL text model
    w.add_uint32(a + ".n_deepstack_layers", static_cast<uint32_t>(c.num_deepstack_layers));
  if (c.num_experts > 0) {
    w.add_uint32(a + ".expert_count", static_cast<uint32_t>(c.num_experts));
    w.add_uint32(a + ".expert_used_count", static_cast<uint32_t>(c.num_experts_used));
    w.add_uint32(a + ".expert_feed_forward_length",
                 static_cast<uint32_t>(c.expert_intermediate_size));
  }
  if (c.arch->hybrid) add_hybrid_gguf_metadata(c, w);
  SLUICE_RETURN_IF_ERROR(add_gguf_tokenizer_metadata(o.tokenizer_path, c.vocab_size, w));
  const bool fuse_ba = c.arch->hf_fused_linear;  // Qwen3-Next's GGUF: one ssm_ba
  for (TensorSpec t : tensors) {
    if (fuse_ba && contains(t.name, "linear_attn.in_proj_a.")) continue;  // with in_proj_b
    std::vector<float> values = produce(t);
    if (fuse_ba && contains(t.name, "linear_attn.in_proj_b.")) {
      TensorSpec a_spec = t;
      a_spec.name.replace(a_spec.name.find("in_proj_b"), 9, "in_proj_a");
      values = sluice::fuse_ba(c, values, produce(a_spec));
      t.name.replace(t.name.find("in_proj_b"), 9, "in_proj_ba");
      t.rows *= 2;
    }
    if (c.arch->hybrid) values = hybrid_gguf_values(c, t, std::move(values));
    const std::string name = gguf_tensor_name(t.name, a);
    const GgufType type = gguf_type_for(t, o.format);
    std::vector<int64_t> shape = {t.cols};
    if (t.experts > 0)
      shape.insert(shape.end(), {t.rows / t.experts, t.experts});  // [cols, rows, experts]
    else if ((t.kind == TensorSpec::Kind::kMatrix && !contains(t.name, "shared_expert_gate")) ||
             t.kind == TensorSpec::Kind::kEmbedding || t.rows > 1)  // expert biases [experts, n]
      shape.push_back(t.rows);
    w.add_tensor(name, type, shape, quantize_to_gguf(type, values.data(), t.rows, t.cols));
  }
  if (c.rope_scaling.type == "llama3") {
    // llama.cpp applies Llama 3 RoPE scaling as per-frequency divisors.
    ModelConfig plain = c;
    plain.rope_scaling = RopeScaling{};
    const auto base = plain.rope_inv_freq(), scaled = c.rope_inv_freq();
    std::vector<float> factors(base.size());
    for (size_t i = 0; i < base.size(); ++i) factors[i] = base[i] / scaled[i];
    w.add_tensor(
        "rope_freqs.weight", GgufType::F32, {static_cast<int64_t>(factors.size())},
        quantize_to_gguf(GgufType::F32, factors.data(), 1, static_cast<int64_t>(factors.size())));
  }
  return w.write(out);
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v, const std::string& dtype) {
  if (dtype == "F32") {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  std::vector<uint8_t> b(v.size() * 2);
  auto* h = reinterpret_cast<uint16_t*>(b.data());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = dtype == "F16" ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
  return b;
}

template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Hugging Face gpt-oss: gate and up fused input-major, gate_up_proj [E, c, 2r] (gate columns
// even, up odd) and down_proj [E, c, r]; experts' biases gate_up_proj_bias [E, 2r] likewise.
// halves: Qwen3-VL-MoE's order instead (the gate's r columns, then the up's).
// gate: the gate tensor (and its bias); up: the up one (null when writing down_proj).
void add_fused_hf_experts(const std::string& head, const TensorSpec& t,
                          const std::vector<float>& gate, const std::vector<float>* up, bool halves,
                          const WriteOptions& o, std::vector<SafetensorsWriteTensor>& out) {
  const bool bias = t.kind == TensorSpec::Kind::kBias;
  const int64_t E = bias ? t.rows : t.experts, r = bias ? t.cols : t.rows / E;
  const int64_t c = bias ? 1 : t.cols, parts = up ? 2 : 1;
  std::vector<float> fused(static_cast<size_t>(E * c * r * parts));
  for (int64_t e = 0; e < E; ++e)
    for (int64_t i = 0; i < r; ++i)
      for (int64_t k = 0; k < c; ++k)
        for (int64_t p = 0; p < parts; ++p)
          fused[halves ? ((e * c + k) * parts + p) * r + i : ((e * c + k) * r + i) * parts + p] =
              (p ? *up : gate)[(e * r + i) * c + k];
  const std::string name = head + ".experts." + (up ? "gate_up_proj" : "down_proj");
  out.push_back({bias ? name + "_bias" : name, o.float_dtype,
                 bias ? std::vector<int64_t>{E, parts * r} : std::vector<int64_t>{E, c, parts * r},
                 float_bytes(fused, o.float_dtype)});
}

// gpt-oss experts as transformers publishes them: "<name>_blocks" [E, parts * r, c/32, 16] and
// "<name>_scales" [E, parts * r, c/32] (OCP MXFP4; gate rows even, up rows odd).
void add_gpt_oss_mxfp4_experts(const std::string& head, const TensorSpec& t,
                               const std::vector<float>& gate, const std::vector<float>* up,
                               std::vector<SafetensorsWriteTensor>& out) {
  const int64_t E = t.experts, r = t.rows / E, c = t.cols, parts = up ? 2 : 1, g = c / 32;
  std::vector<uint8_t> blocks, scales;
  for (int64_t e = 0; e < E; ++e)
    for (int64_t i = 0; i < r; ++i)
      for (int64_t p = 0; p < parts; ++p) {
        const float* row = (p ? *up : gate).data() + (e * r + i) * c;
        const std::vector<uint8_t> q = quantize_to_gguf(GgufType::MXFP4, row, 1, c);
        for (int64_t k = 0; k < g; ++k) {  // GGUF block order -> OCP (element 2j low nibble)
          const uint8_t* b = &q[k * 17];
          scales.push_back(b[0]);
          uint8_t codes[32];
          for (int j = 0; j < 16; ++j) codes[j] = b[1 + j] & 15, codes[j + 16] = b[1 + j] >> 4;
          for (int j = 0; j < 16; ++j)
            blocks.push_back(static_cast<uint8_t>(codes[2 * j] | codes[2 * j + 1] << 4));
        }
      }
  const std::string name = head + ".experts." + (up ? "gate_up_proj" : "down_proj");
  out.push_back({name + "_blocks", "U8", {E, parts * r, g, 16}, std::move(blocks)});
  out.push_back({name + "_scales", "U8", {E, parts * r, g}, std::move(scales)});
}

// An experts tensor [E * r, c] ("...mlp.experts.gate_proj.weight"): MLX (bits > 0) writes
// "...mlp.switch_mlp.gate_proj.{weight,scales,biases}" [E, r, ...] (gpt-oss, as mlx-lm names
// it: "...mlp.experts.gate_proj.*"); HF "...experts.e.gate_proj".
Status add_expert_tensors(const TensorSpec& t, const std::vector<float>& v, const WriteOptions& o,
                          int bits, MlxScaleType st, bool gpt_oss,
                          std::vector<SafetensorsWriteTensor>& out) {
  const int64_t E = t.experts, r = t.rows / E, c = t.cols;
  const size_t at = t.name.find(".experts.");
  const std::string head = t.name.substr(0, at), proj = t.name.substr(at + 9);
  if (bits == 0) {
    for (int64_t e = 0; e < E; ++e) {
      const std::vector<float> one(v.begin() + e * r * c, v.begin() + (e + 1) * r * c);
      out.push_back({head + ".experts." + std::to_string(e) + "." + proj,
                     o.float_dtype,
                     {r, c},
                     float_bytes(one, o.float_dtype)});
    }
    return Status::ok();
  }
  if (c % o.group_size != 0)
    return Status::error("make-model", t.name + ": columns are not a multiple of the group size");
  MlxQuantized q = quantize_to_mlx(v.data(), E * r, c, bits, o.group_size, st);
  const std::string base =
      head + (gpt_oss ? ".experts." : ".switch_mlp.") + proj.substr(0, proj.rfind(".weight"));
  out.push_back({base + ".weight", "U32", {E, r, c * bits / 32}, as_bytes(q.packed)});
  out.push_back({base + ".scales", o.float_dtype, {E, r, c / o.group_size}, as_bytes(q.scales)});
  out.push_back({base + ".biases", o.float_dtype, {E, r, c / o.group_size}, as_bytes(q.biases)});
  return Status::ok();
}

Status write_safetensors_dir(const ModelConfig& c, const std::vector<TensorSpec>& tensors,
                             const TensorProducer& produce, const WriteOptions& o,
                             const std::string& out) {
  const std::string tok_dir = fs::path(o.tokenizer_path).parent_path().string();
  if (fs::path(o.tokenizer_path).filename() != "tokenizer.json")
    return Status::error("make-model", "safetensors/MLX formats need a tokenizer.json tokenizer");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Status::error("make-model", out + ": " + ec.message());
  const bool mlx = o.format == OutputFormat::kMlx4 || o.format == OutputFormat::kMlx8;
  const int bits = o.format == OutputFormat::kMlx4 ? 4 : 8;
  const MlxScaleType st = o.float_dtype == "F32"   ? MlxScaleType::F32
                          : o.float_dtype == "F16" ? MlxScaleType::F16
                                                   : MlxScaleType::BF16;
  std::vector<SafetensorsWriteTensor> out_tensors;
  const VlmFamily* vlm = o.vlm ? vlm_family_of(*c.arch) : nullptr;
  if (o.vlm && !vlm)
    return Status::error("make-model", c.arch->name + " is not the language model of a VLM");
  // Experts fused, as transformers stores gpt-oss and Qwen3-VL-MoE's published files do.
  const bool qwen3vl_experts = vlm && c.num_experts > 0;
  const bool fused_hf = (c.attention_sinks || qwen3vl_experts) && !mlx;
  for (const TensorSpec& t : tensors) {
    const size_t at = t.name.find(".experts.");
    if (fused_hf && at != std::string::npos) {
      if (t.name.find("up_proj") != std::string::npos) continue;  // written with gate_proj
      const bool down = t.name.find("down_proj") != std::string::npos;
      const std::vector<float> gate = produce(t);
      std::vector<float> up;
      if (!down) {
        TensorSpec u = t;
        u.name.replace(u.name.find("gate_proj"), 9, "up_proj");
        up = produce(u);
      }
      if (o.format == OutputFormat::kSafetensorsMxfp4 && t.kind != TensorSpec::Kind::kBias) {
        if (t.cols % 32 != 0)
          return Status::error("make-model", t.name + ": columns are not a multiple of 32");
        add_gpt_oss_mxfp4_experts(t.name.substr(0, at), t, gate, down ? nullptr : &up, out_tensors);
      } else {
        add_fused_hf_experts(t.name.substr(0, at), t, gate, down ? nullptr : &up, qwen3vl_experts,
                             o, out_tensors);
      }
      continue;
    }
    std::vector<float> v = produce(t);
    // Gemma's and Qwen3.5's files store (w - 1) (not the delta-net's gated norm).
    if (c.arch->norms_offset_one && t.kind == TensorSpec::Kind::kNorm &&
        !contains(t.name, "linear_attn.norm"))
      for (float& x : v) x -= 1.0f;
    if (t.kind == TensorSpec::Kind::kConv) {  // Hugging Face's Conv1d weight [C, 1, kernel]
      out_tensors.push_back(
          {t.name, o.float_dtype, {t.rows, 1, t.cols}, float_bytes(v, o.float_dtype)});
      continue;
    }
    if (t.experts > 0) {  // MLX: stacked under switch_mlp; Hugging Face: one tensor per expert
      SLUICE_RETURN_IF_ERROR(
          add_expert_tensors(t, v, o, mlx ? bits : 0, st, c.attention_sinks, out_tensors));
      continue;
    }
    const bool matrix =
        t.kind == TensorSpec::Kind::kMatrix || t.kind == TensorSpec::Kind::kEmbedding;
    if (mlx && matrix) {
      if (t.cols % o.group_size != 0)
        return Status::error("make-model", t.name + ": " + std::to_string(t.cols) +
                                               " columns are not a multiple of group size " +
                                               std::to_string(o.group_size));
      MlxQuantized q = quantize_to_mlx(v.data(), t.rows, t.cols, bits, o.group_size, st);
      const std::string base = t.name.substr(0, t.name.rfind(".weight"));
      const std::string sdt = o.float_dtype;
      out_tensors.push_back(
          {base + ".weight", "U32", {t.rows, t.cols * bits / 32}, as_bytes(q.packed)});
      out_tensors.push_back(
          {base + ".scales", sdt, {t.rows, t.cols / o.group_size}, as_bytes(q.scales)});
      out_tensors.push_back(
          {base + ".biases", sdt, {t.rows, t.cols / o.group_size}, as_bytes(q.biases)});
    } else {
      std::vector<int64_t> shape = matrix || t.rows > 1 ? std::vector<int64_t>{t.rows, t.cols}
                                                        : std::vector<int64_t>{t.cols};
      out_tensors.push_back({t.name, o.float_dtype, shape, float_bytes(v, o.float_dtype)});
    }
  }
  nlohmann::json config = hf_config_json(c, o);
  if (vlm) {
    VlmConfigOptions vo;
    vo.tokenizer_path = o.tokenizer_path;
    vo.torch_dtype = config["torch_dtype"];
    vo.mm_tokens_per_image = o.mm_tokens_per_image;
    if (mlx) vo.quantization = config["quantization"], vo.quantization["mode"] = "affine";
    SLUICE_ASSIGN_OR_RETURN(config, hf_vlm_config_json(c, *vlm, std::move(config), vo));
    // mlx-vlm's Gemma 3 always has a head: the tied embedding's copy (language.py's sanitize).
    if (mlx && c.tie_word_embeddings && vlm->model_type == "gemma3") {
      std::vector<SafetensorsWriteTensor> head;
      for (const SafetensorsWriteTensor& w : out_tensors)
        if (w.name.rfind("model.embed_tokens.", 0) == 0)
          head.push_back({"lm_head." + w.name.substr(19), w.dtype, w.shape, w.bytes});
      out_tensors.insert(out_tensors.end(), head.begin(), head.end());
    }
    for (SafetensorsWriteTensor& w : out_tensors) w.name = vlm_tensor_name(*vlm, mlx, w.name);
  }
  SLUICE_RETURN_IF_ERROR(
      write_safetensors(out + "/model.safetensors", out_tensors, {{"format", mlx ? "mlx" : "pt"}}));
  std::ofstream(out + "/config.json") << config.dump(2) << "\n";
  fs::copy_file(o.tokenizer_path, out + "/tokenizer.json", fs::copy_options::overwrite_existing,
                ec);
  if (ec) return Status::error("make-model", "copying tokenizer.json: " + ec.message());
  const std::string tc = tok_dir + "/tokenizer_config.json";
  if (fs::exists(tc))
    fs::copy_file(tc, out + "/tokenizer_config.json", fs::copy_options::overwrite_existing, ec);
  return Status::ok();
}

}  // namespace

Status write_model(const ModelConfig& c, const std::vector<TensorSpec>& tensors,
                   const TensorProducer& produce, const WriteOptions& o, const std::string& out) {
  if (o.float_dtype != "BF16" && o.float_dtype != "F16" && o.float_dtype != "F32")
    return Status::error("make-model", "float dtype must be BF16, F16 or F32");
  if (o.format == OutputFormat::kSafetensorsBF16 && o.float_dtype != "BF16")
    return Status::error("make-model", "safetensors-bf16 writes BF16");
  if (o.format == OutputFormat::kSafetensorsMxfp4 && !c.attention_sinks)
    return Status::error("make-model", "safetensors-mxfp4 is gpt-oss's published layout only");
  if (is_gguf_format(o.format)) return write_gguf(c, tensors, produce, o, out);
  if (c.mrope() && (!c.rope_scaling.type.empty() || c.rope_sections[3] != 0))
    return Status::error("make-model", "config.json holds M-RoPE of three sections, unscaled");
  return write_safetensors_dir(c, tensors, produce, o, out);
}

}  // namespace sluice
