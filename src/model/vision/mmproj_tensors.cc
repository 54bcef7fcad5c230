#include "model/vision/mmproj_tensors.h"

#include <cstring>

namespace sluice {

Weight to_f32(const Weight& w) {
  if (w.dtype == DType::F32) return w;
  std::vector<uint8_t> bytes(static_cast<size_t>(w.rows * w.cols) * sizeof(float));
  float* f = reinterpret_cast<float*>(bytes.data());
  for (int64_t r = 0; r < w.rows; ++r) dequantize_row(w, r, f + r * w.cols);
  return Weight::from_owned(DType::F32, w.rows, w.cols, std::move(bytes));
}

Weight transposed(const Weight& w) {
  const bool half = w.dtype == DType::F16 || w.dtype == DType::BF16;
  const Weight src = half ? w : to_f32(w);
  const size_t elem = half ? 2 : 4;
  std::vector<uint8_t> bytes(static_cast<size_t>(w.rows * w.cols) * elem);
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      std::memcpy(&bytes[static_cast<size_t>(c * w.rows + r) * elem],
                  src.data + static_cast<size_t>(r * w.cols + c) * elem, elem);
  return Weight::from_owned(src.dtype, w.cols, w.rows, std::move(bytes));
}

bool ffn_names_swapped(const MmprojTensors& r, const VisionConfig& c) {
  return c.hidden_size != c.intermediate_size &&
         r.ggml_shape("v.blk.0.ffn_down.weight") ==
             std::vector<int64_t>{c.hidden_size, c.intermediate_size};
}

Status load_layer_attention(const MmprojTensors& r, const std::string& p, const VisionConfig& c,
                            VisionLayerWeights& L) {
  const int64_t H = c.hidden_size, Q = c.q_dim();
  SLUICE_ASSIGN_OR_RETURN(L.wq, r.matrix(p + "attn_q.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.wk, r.matrix(p + "attn_k.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.wv, r.matrix(p + "attn_v.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.q_bias, r.vector(p + "attn_q.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.k_bias, r.vector(p + "attn_k.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.v_bias, r.vector(p + "attn_v.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.wo, r.matrix(p + "attn_out.weight", H, Q));
  SLUICE_ASSIGN_OR_RETURN(L.o_bias, r.vector(p + "attn_out.bias", H));
  return Status::ok();
}

Status load_layer_up_down(const MmprojTensors& r, const std::string& p, const VisionConfig& c,
                          bool swapped, VisionLayerWeights& L) {
  const int64_t H = c.hidden_size, F = c.intermediate_size;
  const std::string up = swapped ? "ffn_down" : "ffn_up", down = swapped ? "ffn_up" : "ffn_down";
  SLUICE_ASSIGN_OR_RETURN(L.w_up, r.matrix(p + up + ".weight", F, H));
  SLUICE_ASSIGN_OR_RETURN(L.up_bias, r.vector(p + up + ".bias", F));
  SLUICE_ASSIGN_OR_RETURN(L.w_down, r.matrix(p + down + ".weight", H, F));
  SLUICE_ASSIGN_OR_RETURN(L.down_bias, r.vector(p + down + ".bias", H));
  return Status::ok();
}

}  // namespace sluice
