#include "model/vision/qwen2vl_weights.h"

#include <cmath>
#include <cstring>

#include "model/vision/mmproj_tensors.h"

namespace sluice {
namespace {

Weight f32_vector(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return Weight::from_owned(DType::F32, 1, static_cast<int64_t>(v.size()), std::move(bytes));
}

}  // namespace

Result<Weight> summed_patch_conv(const MmprojTensors& r, const VisionConfig& c) {
  const int64_t H = c.hidden_size, P = c.patch_size;
  SLUICE_ASSIGN_OR_RETURN(Weight first, r.patch_conv("v.patch_embd.weight", H, P));
  Weight sum = to_f32(first);
  if (!r.has("v.patch_embd.weight.1")) return sum;
  SLUICE_ASSIGN_OR_RETURN(Weight second, r.patch_conv("v.patch_embd.weight.1", H, P));
  const Weight second_f32 = to_f32(second);
  std::vector<uint8_t> bytes(static_cast<size_t>(H * 3 * P * P) * sizeof(float));
  float* out = reinterpret_cast<float*>(bytes.data());
  const float* a = reinterpret_cast<const float*>(sum.data);
  const float* b = reinterpret_cast<const float*>(second_f32.data);
  for (int64_t i = 0; i < H * 3 * P * P; ++i) out[i] = a[i] + b[i];
  return Weight::from_owned(DType::F32, H, 3 * P * P, std::move(bytes));
}

Result<Weight> video_patch_conv(const MmprojTensors& r, const VisionConfig& c) {
  if (!r.has("v.patch_embd.weight.1")) return Weight{};
  const int64_t H = c.hidden_size, cols = 3 * c.patch_size * c.patch_size;
  std::vector<uint8_t> bytes(static_cast<size_t>(H * 2 * cols) * sizeof(float));
  float* out = reinterpret_cast<float*>(bytes.data());  // [H, 2 * cols]
  const char* names[] = {"v.patch_embd.weight", "v.patch_embd.weight.1"};
  for (int64_t frame = 0; frame < 2; ++frame) {
    SLUICE_ASSIGN_OR_RETURN(Weight conv, r.patch_conv(names[frame], H, c.patch_size));
    const Weight f = to_f32(conv);
    const float* in = reinterpret_cast<const float*>(f.data);  // [H, cols]
    for (int64_t h = 0; h < H; ++h)
      std::memcpy(out + (h * 2 + frame) * cols, in + h * cols, cols * sizeof(float));
  }
  return Weight::from_owned(DType::F32, H, 2 * cols, std::move(bytes));
}

void set_vision_rope(const VisionConfig& c, VisionWeights& w) {
  // 2D RoPE (theta 10000 over head_dim / 2 dims per axis): pair i < head_dim / 4 turns with the
  // patch's row, the next head_dim / 4 pairs with its column, at 10000^(-4j / head_dim).
  const int64_t quarter = c.head_dim / 4;
  std::vector<float> fy(static_cast<size_t>(2 * quarter), 0.0f), fx = fy;
  for (int64_t j = 0; j < quarter; ++j) {
    const float f =
        static_cast<float>(std::pow(10000.0, -4.0 * j / static_cast<double>(c.head_dim)));
    fy[static_cast<size_t>(j)] = f;
    fx[static_cast<size_t>(quarter + j)] = f;
  }
  w.rope_freq_y = f32_vector(fy);
  w.rope_freq_x = f32_vector(fx);
}

namespace {

Status load_qwen2vl_layer(const MmprojTensors& r, const VisionConfig& c, int64_t i, bool swapped,
                          VisionLayerWeights& L) {
  const std::string p = "v.blk." + std::to_string(i) + ".";
  const int64_t H = c.hidden_size, F = c.intermediate_size;
  SLUICE_ASSIGN_OR_RETURN(L.ln1_w, r.vector(p + "ln1.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_w, r.vector(p + "ln2.weight", H));
  if (c.projector == ProjectorType::kQwen2VL) {  // LayerNorm (2.5: RMSNorm, no bias)
    SLUICE_ASSIGN_OR_RETURN(L.ln1_b, r.vector(p + "ln1.bias", H));
    SLUICE_ASSIGN_OR_RETURN(L.ln2_b, r.vector(p + "ln2.bias", H));
  }
  SLUICE_RETURN_IF_ERROR(load_layer_attention(r, p, c, L));
  if (c.projector == ProjectorType::kQwen25VL) {
    SLUICE_ASSIGN_OR_RETURN(L.w_gate, r.matrix(p + "ffn_gate.weight", F, H));
    SLUICE_ASSIGN_OR_RETURN(L.gate_bias, r.vector(p + "ffn_gate.bias", F));
  }
  return load_layer_up_down(r, p, c, swapped, L);
}

}  // namespace

Result<VisionWeights> load_qwen2vl_weights(const MmprojTensors& r, const VisionConfig& c) {
  VisionWeights w;
  const int64_t H = c.hidden_size, M = c.merge_size * c.merge_size * H;
  if (r.has("v.patch_embd.bias"))
    return r.fail("tensor 'v.patch_embd.bias' is unexpected: Qwen's patch embedding has no bias");
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed, summed_patch_conv(r, c));
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed_video, video_patch_conv(r, c));
  const bool swapped = ffn_names_swapped(r, c);
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i)
    SLUICE_RETURN_IF_ERROR(load_qwen2vl_layer(r, c, i, swapped, w.layers[static_cast<size_t>(i)]));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_w, r.vector("v.post_ln.weight", H));
  if (c.projector == ProjectorType::kQwen2VL) {
    SLUICE_ASSIGN_OR_RETURN(w.post_norm_b, r.vector("v.post_ln.bias", H));
  }
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc1, r.matrix("mm.0.weight", M, M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc1_bias, r.vector("mm.0.bias", M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc2, r.matrix("mm.2.weight", c.projection_dim, M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc2_bias, r.vector("mm.2.bias", c.projection_dim));

  set_vision_rope(c, w);
  return w;
}

}  // namespace sluice
