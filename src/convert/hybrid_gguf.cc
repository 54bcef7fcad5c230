#include "convert/hybrid_gguf.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "model/arch/arch_spec.h"

namespace sluice {

namespace {

// Value head (g, j) (key head g's j-th) moves from grouped slot g*r + j to tiled slot j*Hk + g:
// the Hv blocks of rows_per_head rows from first_row on (v [rows, cols]).
void tile_rows(const ModelConfig& c, std::vector<float>& v, int64_t first_row,
               int64_t rows_per_head, int64_t cols) {
  const int64_t hk = c.linear_num_k_heads, r = c.linear_num_v_heads / hk;
  const int64_t head = rows_per_head * cols;
  const std::vector<float> src(
      v.begin() + first_row * cols,
      v.begin() + (first_row + c.linear_num_v_heads * rows_per_head) * cols);
  for (int64_t g = 0; g < hk; ++g)
    for (int64_t j = 0; j < r; ++j)
      std::copy_n(src.begin() + (g * r + j) * head, head,
                  v.begin() + first_row * cols + (j * hk + g) * head);
}

// The same over the columns of every row (out_proj reads the value heads).
void tile_cols(const ModelConfig& c, std::vector<float>& v, int64_t rows, int64_t cols) {
  const int64_t hk = c.linear_num_k_heads, r = c.linear_num_v_heads / hk;
  const int64_t dv = c.linear_head_v_dim;
  for (int64_t row = 0; row < rows; ++row) {
    float* p = v.data() + row * cols;
    const std::vector<float> src(p, p + cols);
    for (int64_t g = 0; g < hk; ++g)
      for (int64_t j = 0; j < r; ++j)
        std::copy_n(src.begin() + (g * r + j) * dv, dv, p + (j * hk + g) * dv);
  }
}

}  // namespace

void add_hybrid_gguf_metadata(const ModelConfig& c, GgufWriter& w) {
  const std::string a = c.arch->gguf_architectures.front() + ".";
  w.add_uint32(a + "ssm.conv_kernel", static_cast<uint32_t>(c.linear_conv_kernel));
  w.add_uint32(a + "ssm.state_size", static_cast<uint32_t>(c.linear_head_k_dim));
  w.add_uint32(a + "ssm.group_count", static_cast<uint32_t>(c.linear_num_k_heads));
  w.add_uint32(a + "ssm.time_step_rank", static_cast<uint32_t>(c.linear_num_v_heads));
  w.add_uint32(a + "ssm.inner_size",
               static_cast<uint32_t>(c.linear_num_v_heads * c.linear_head_v_dim));
  int64_t interval = 0;  // the presets' pattern: every interval-th layer is full attention
  while (interval < c.num_layers && c.is_recurrent(interval)) ++interval;
  w.add_uint32(a + "full_attention_interval", static_cast<uint32_t>(interval + 1));
  // Multi-section RoPE (Qwen3.5's 11:11:10 of the rotating pairs); text positions make it plain.
  const int32_t half = static_cast<int32_t>(c.rope_dim() / 2);
  const int32_t s = static_cast<int32_t>(std::lround(half * 11.0 / 32.0));
  w.add_int32_array(a + "rope.dimension_sections", {s, s, half - 2 * s, 0});
  if (c.shared_expert_intermediate_size > 0)
    w.add_uint32(a + "expert_shared_feed_forward_length",
                 static_cast<uint32_t>(c.shared_expert_intermediate_size));
}

std::vector<float> hybrid_gguf_values(const ModelConfig& c, const TensorSpec& t,
                                      std::vector<float> v) {
  if (t.name.ends_with("linear_attn.A_log"))
    for (float& x : v) x = -std::exp(x);
  const bool tiled =
      c.arch->gguf_linear_heads_tiled && c.linear_num_v_heads != c.linear_num_k_heads;
  if (!tiled || t.name.find("linear_attn.") == std::string::npos) return v;
  const int64_t key_rows = 2 * c.linear_num_k_heads * c.linear_head_k_dim, dv = c.linear_head_v_dim;
  if (t.name.ends_with("in_proj_qkv.weight") || t.name.ends_with("conv1d.weight"))
    tile_rows(c, v, key_rows, dv, t.cols);  // only the value channels move
  else if (t.name.ends_with("in_proj_z.weight"))
    tile_rows(c, v, 0, dv, t.cols);
  else if (t.name.ends_with("in_proj_b.weight") || t.name.ends_with("in_proj_a.weight"))
    tile_rows(c, v, 0, 1, t.cols);
  else if (t.name.ends_with("A_log") || t.name.ends_with("dt_bias"))
    tile_rows(c, v, 0, 1, 1);
  else if (t.name.ends_with("out_proj.weight"))
    tile_cols(c, v, t.rows, t.cols);
  return v;
}

std::vector<float> fuse_ba(const ModelConfig& c, const std::vector<float>& b,
                           const std::vector<float>& a) {
  const int64_t hk = c.linear_num_k_heads, r = c.linear_num_v_heads / hk, H = c.hidden_size;
  std::vector<float> out(2 * c.linear_num_v_heads * H);
  for (int64_t g = 0; g < hk; ++g)
    for (int64_t j = 0; j < r; ++j) {
      std::copy_n(b.begin() + (g * r + j) * H, H, out.begin() + (g * 2 * r + j) * H);
      std::copy_n(a.begin() + (g * r + j) * H, H, out.begin() + (g * 2 * r + r + j) * H);
    }
  return out;
}

}  // namespace sluice
