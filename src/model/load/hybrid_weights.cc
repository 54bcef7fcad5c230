#include "model/load/hybrid_weights.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace sluice {

namespace {

std::vector<int64_t> iota_rows(int64_t first, int64_t count) {
  std::vector<int64_t> rows(count);
  for (int64_t i = 0; i < count; ++i) rows[i] = first + i;
  return rows;
}

// Qwen3-Next's in_proj_ba [2 * Hv, hidden]: per key head g, its r = Hv/Hk value heads' b rows
// then their a rows. Splits it into b and a [Hv, hidden] in value-head order.
void split_ba(const Weight& ba, const ModelConfig& c, LayerWeights& L) {
  const int64_t hk = c.linear_num_k_heads, r = c.linear_num_v_heads / hk;
  std::vector<int64_t> b, a;
  for (int64_t g = 0; g < hk; ++g)
    for (int64_t j = 0; j < r; ++j) b.push_back(g * 2 * r + j), a.push_back(g * 2 * r + r + j);
  L.lin_b = ba.select_rows(b);
  L.lin_a = ba.select_rows(a);
}

// Qwen3-Next's in_proj_qkvz: per key head g, [q dk | k dk | v r*dv | z r*dv] rows. Into
// qkv (all q heads, all k heads, all v heads) and z.
void split_qkvz(const Weight& w, const ModelConfig& c, LayerWeights& L) {
  const int64_t hk = c.linear_num_k_heads, dk = c.linear_head_k_dim;
  const int64_t vr = c.linear_num_v_heads / hk * c.linear_head_v_dim;
  const int64_t group = 2 * dk + 2 * vr;
  std::vector<int64_t> qkv, z;
  for (int64_t part : {int64_t{0}, dk})  // q rows, then k rows
    for (int64_t g = 0; g < hk; ++g)
      for (int64_t row : iota_rows(g * group + part, dk)) qkv.push_back(row);
  for (int64_t g = 0; g < hk; ++g) {
    for (int64_t row : iota_rows(g * group + 2 * dk, vr)) qkv.push_back(row);
    for (int64_t row : iota_rows(g * group + 2 * dk + vr, vr)) z.push_back(row);
  }
  L.lin_qkv = w.select_rows(qkv);
  L.lin_z = w.select_rows(z);
}

}  // namespace

Status load_delta_net(const WeightSource& src, const ModelConfig& c, const std::string& p,
                      bool gguf, LayerWeights& L) {
  const int64_t H = c.hidden_size, hv = c.linear_num_v_heads, dv = c.linear_head_v_dim;
  const int64_t vdim = hv * dv, qkv_dim = 2 * c.linear_num_k_heads * c.linear_head_k_dim + vdim;
  const std::string a = p + "linear_attn.";
  if (src.has(a + "in_proj_qkvz.weight")) {
    SLUICE_ASSIGN_OR_RETURN(Weight w, src.matrix(a + "in_proj_qkvz.weight", qkv_dim + vdim, H));
    split_qkvz(w, c, L);
  } else {
    SLUICE_ASSIGN_OR_RETURN(L.lin_qkv, src.matrix(a + "in_proj_qkv.weight", qkv_dim, H));
    SLUICE_ASSIGN_OR_RETURN(L.lin_z, src.matrix(a + "in_proj_z.weight", vdim, H));
  }
  if (src.has(a + "in_proj_ba.weight")) {
    SLUICE_ASSIGN_OR_RETURN(Weight ba, src.matrix(a + "in_proj_ba.weight", 2 * hv, H));
    split_ba(ba, c, L);
  } else {
    SLUICE_ASSIGN_OR_RETURN(L.lin_b, src.matrix(a + "in_proj_b.weight", hv, H));
    SLUICE_ASSIGN_OR_RETURN(L.lin_a, src.matrix(a + "in_proj_a.weight", hv, H));
  }
  SLUICE_ASSIGN_OR_RETURN(L.lin_conv,
                          src.conv_kernel(a + "conv1d.weight", qkv_dim, c.linear_conv_kernel));
  SLUICE_ASSIGN_OR_RETURN(L.lin_a_neg, src.vector(a + "A_log", hv));
  if (!gguf)  // llama.cpp stores -exp(A_log) already
    for (float& v : L.lin_a_neg) v = -std::exp(v);
  SLUICE_ASSIGN_OR_RETURN(L.lin_dt_bias, src.vector(a + "dt_bias", hv));
  SLUICE_ASSIGN_OR_RETURN(L.lin_norm, src.vector(a + "norm.weight", dv));
  SLUICE_ASSIGN_OR_RETURN(L.lin_out, src.matrix(a + "out_proj.weight", H, vdim));
  return Status::ok();
}

Status load_gated_query(const WeightSource& src, const ModelConfig& c, const std::string& p,
                        LayerWeights& L) {
  const int64_t hd = c.head_dim, q_dim = c.num_heads * hd;
  SLUICE_ASSIGN_OR_RETURN(Weight w,
                          src.matrix(p + "self_attn.q_proj.weight", 2 * q_dim, c.hidden_size));
  std::vector<int64_t> q, gate;
  for (int64_t h = 0; h < c.num_heads; ++h)
    for (int64_t i = 0; i < hd; ++i)
      q.push_back(h * 2 * hd + i), gate.push_back(h * 2 * hd + hd + i);
  L.wq = w.select_rows(q);
  L.wq_gate = w.select_rows(gate);
  return Status::ok();
}

Status load_shared_expert(const WeightSource& src, const ModelConfig& c, const std::string& p,
                          LayerWeights& L) {
  const int64_t H = c.hidden_size, SI = c.shared_expert_intermediate_size;
  const std::string e = p + "mlp.shared_expert.";
  SLUICE_ASSIGN_OR_RETURN(L.w_gate_shexp, src.matrix(e + "gate_proj.weight", SI, H));
  SLUICE_ASSIGN_OR_RETURN(L.w_up_shexp, src.matrix(e + "up_proj.weight", SI, H));
  SLUICE_ASSIGN_OR_RETURN(L.w_down_shexp, src.matrix(e + "down_proj.weight", H, SI));
  // The gate: [1, hidden] in Hugging Face files, a vector of hidden in GGUF.
  const std::string g = p + "mlp.shared_expert_gate.weight";
  if (auto m = src.matrix(g, 1, H)) {
    L.w_shexp_gate = *m;
  } else {
    SLUICE_ASSIGN_OR_RETURN(std::vector<float> v, src.vector(g, H));
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    L.w_shexp_gate = Weight::from_owned(DType::F32, 1, H, std::move(bytes));
  }
  return Status::ok();
}

}  // namespace sluice
