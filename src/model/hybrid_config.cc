#include "model/hybrid_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <variant>

#include "formats/gguf.h"
#include "model/arch/arch_spec.h"

namespace sluice {

namespace {

Status bad(const std::string& where, const std::string& what) {
  return Status::error("config", where + ": " + what);
}

// Layer i is full attention when (i + 1) % interval == 0, linear attention otherwise.
void recurrent_every(ModelConfig& c, int64_t interval) {
  c.recurrent_layers.assign(c.num_layers, 1);
  for (int64_t i = 0; i < c.num_layers; ++i)
    if (interval > 0 && (i + 1) % interval == 0) c.recurrent_layers[i] = 0;
}

int64_t positive_int(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

}  // namespace

Status hybrid_from_hf(const nlohmann::json& j, ModelConfig& c, const std::string& where) {
  c.linear_num_k_heads = positive_int(j, "linear_num_key_heads", 0);
  c.linear_num_v_heads = positive_int(j, "linear_num_value_heads", 0);
  c.linear_head_k_dim = positive_int(j, "linear_key_head_dim", 0);
  c.linear_head_v_dim = positive_int(j, "linear_value_head_dim", 0);
  c.linear_conv_kernel = positive_int(j, "linear_conv_kernel_dim", 4);
  c.linear_heads_tiled = false;  // Hugging Face order: a key head's value heads side by side
  if (auto it = j.find("layer_types"); it != j.end() && it->is_array()) {
    if (static_cast<int64_t>(it->size()) != c.num_layers)
      return bad(where, "layer_types has " + std::to_string(it->size()) + " entries for " +
                            std::to_string(c.num_layers) + " layers");
    c.recurrent_layers.clear();
    for (const auto& t : *it) {
      if (t != "linear_attention" && t != "full_attention")
        return bad(where, "layer_types: unknown layer type " + t.dump());
      c.recurrent_layers.push_back(t == "linear_attention" ? 1 : 0);
    }
  } else {
    recurrent_every(c, positive_int(j, "full_attention_interval", 4));
  }
  const nlohmann::json* rope = &j;
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) rope = &*it;
  double partial = 0.25;
  for (const nlohmann::json* o : {&j, rope})
    if (auto it = o->find("partial_rotary_factor"); it != o->end() && it->is_number())
      partial = it->get<double>();
  if (!(partial > 0.0 && partial <= 1.0))
    return bad(where, "partial_rotary_factor must be in (0, 1]");
  c.rotary_dim = static_cast<int64_t>(std::lround(partial * static_cast<double>(c.head_dim)));
  c.attention_output_gate = j.value("attn_output_gate", true);
  c.shared_expert_intermediate_size = positive_int(j, "shared_expert_intermediate_size", 0);
  return Status::ok();
}

Status hybrid_from_gguf(const GgufFile& g, ModelConfig& c) {
  const std::string where = g.path();
  const std::string a = g.get_string("general.architecture").value_or("") + ".";
  auto req = [&](const std::string& key, int64_t* out) -> Status {
    auto v = g.get_int(a + key);
    if (!v) return bad(where, "GGUF is missing " + a + key);
    *out = *v;
    return Status::ok();
  };
  int64_t inner = 0;
  SLUICE_RETURN_IF_ERROR(req("ssm.conv_kernel", &c.linear_conv_kernel));
  SLUICE_RETURN_IF_ERROR(req("ssm.state_size", &c.linear_head_k_dim));
  SLUICE_RETURN_IF_ERROR(req("ssm.group_count", &c.linear_num_k_heads));
  SLUICE_RETURN_IF_ERROR(req("ssm.time_step_rank", &c.linear_num_v_heads));
  SLUICE_RETURN_IF_ERROR(req("ssm.inner_size", &inner));
  if (c.linear_num_v_heads <= 0 || inner % c.linear_num_v_heads != 0)
    return bad(where, a + "ssm.inner_size is not a multiple of " + a + "ssm.time_step_rank");
  c.linear_head_v_dim = inner / c.linear_num_v_heads;
  // llama.cpp's qwen35 converter reorders value heads so they tile the key heads; qwen3next
  // keeps Hugging Face's grouped order.
  c.linear_heads_tiled = c.arch->gguf_linear_heads_tiled;
  if (const GgufValue* v = g.find(a + "attention.recurrent_layers")) {
    const auto* arr = std::get_if<GgufArray>(&v->v);
    if (!arr || static_cast<int64_t>(arr->size()) < c.num_layers)
      return bad(where, a + "attention.recurrent_layers must hold a flag per layer");
    c.recurrent_layers.clear();
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const auto& e = (*arr)[i].v;
      bool on = false;
      if (const bool* b = std::get_if<bool>(&e))
        on = *b;
      else if (const int64_t* n = std::get_if<int64_t>(&e))
        on = *n != 0;
      else if (const uint64_t* u = std::get_if<uint64_t>(&e))
        on = *u != 0;
      else
        return bad(where, a + "attention.recurrent_layers holds a non-integer flag");
      c.recurrent_layers.push_back(on ? 1 : 0);
    }
  } else {
    recurrent_every(c, g.get_int(a + "full_attention_interval").value_or(4));
  }
  c.rotary_dim = g.get_int(a + "rope.dimension_count").value_or(c.head_dim);
  c.attention_output_gate = true;
  c.shared_expert_intermediate_size = g.get_int(a + "expert_shared_feed_forward_length")
                                          .value_or(c.arch->moe ? c.expert_intermediate_size : 0);
  return Status::ok();
}

}  // namespace sluice
