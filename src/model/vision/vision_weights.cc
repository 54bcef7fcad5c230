// load_vision_weights: llama.cpp's mmproj tensor names and layouts -> sluice's Weights.
#include "model/vision/vision_weights.h"

#include <cstring>

#include "formats/gguf.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

namespace sluice {
namespace {

// w as F32 (a copy unless it is F32 already).
Weight to_f32(const Weight& w) {
  if (w.dtype == DType::F32) return w;
  std::vector<uint8_t> bytes(static_cast<size_t>(w.rows * w.cols) * sizeof(float));
  float* f = reinterpret_cast<float*>(bytes.data());
  for (int64_t r = 0; r < w.rows; ++r) dequantize_row(w, r, f + r * w.cols);
  return Weight::from_owned(DType::F32, w.rows, w.cols, std::move(bytes));
}

// The transpose of w [rows, cols]: 16-bit floats stay 16-bit (exact), others become F32.
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

class TensorReader {
 public:
  explicit TensorReader(const GgufFile& g) : g_(g) {}

  Status fail(const std::string& what) const {
    return Status::error("mmproj", g_.path() + ": " + what);
  }

  // The tensor, of exactly `shape` (ggml order: innermost first).
  Result<const GgufTensorInfo*> shaped(const std::string& name,
                                       const std::vector<int64_t>& shape) const {
    const GgufTensorInfo* t = g_.tensor(name);
    if (!t) return fail("missing tensor '" + name + "'");
    if (t->shape != shape)
      return fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected " +
                  shape_str(shape) + " (ggml order)");
    return t;
  }

  Result<Weight> import(const GgufTensorInfo& t, int64_t rows, int64_t cols) const {
    auto w = import_gguf_tensor(t, rows, cols);
    if (!w) return fail(w.error());
    return w;
  }

  // A matrix [rows, cols] (ggml [cols, rows]).
  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const {
    SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {cols, rows}));
    return import(*t, rows, cols);
  }

  // A vector of n floats as F32 [1, n].
  Result<Weight> vector(const std::string& name, int64_t n) const {
    SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {n}));
    SLUICE_ASSIGN_OR_RETURN(Weight w, import(*t, 1, n));
    return to_f32(w);
  }

  // ggml [hidden, ffn] under the name ffn_down: an old converter's fc1 (llama.cpp swaps them).
  bool ffn_names_swapped(const VisionConfig& c) const {
    const GgufTensorInfo* down = g_.tensor("v.blk.0.ffn_down.weight");
    return down && c.hidden_size != c.intermediate_size &&
           down->shape == std::vector<int64_t>{c.hidden_size, c.intermediate_size};
  }

 private:
  const GgufFile& g_;
};

Status load_layer(const TensorReader& r, const VisionConfig& c, int64_t i, bool swapped,
                  VisionLayerWeights& L) {
  const std::string p = "v.blk." + std::to_string(i) + ".";
  const int64_t H = c.hidden_size, Q = c.q_dim(), F = c.intermediate_size;
  const std::string up = swapped ? "ffn_down" : "ffn_up", down = swapped ? "ffn_up" : "ffn_down";
  SLUICE_ASSIGN_OR_RETURN(L.ln1_w, r.vector(p + "ln1.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln1_b, r.vector(p + "ln1.bias", H));
  SLUICE_ASSIGN_OR_RETURN(L.wq, r.matrix(p + "attn_q.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.wk, r.matrix(p + "attn_k.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.wv, r.matrix(p + "attn_v.weight", Q, H));
  SLUICE_ASSIGN_OR_RETURN(L.q_bias, r.vector(p + "attn_q.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.k_bias, r.vector(p + "attn_k.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.v_bias, r.vector(p + "attn_v.bias", Q));
  SLUICE_ASSIGN_OR_RETURN(L.wo, r.matrix(p + "attn_out.weight", H, Q));
  SLUICE_ASSIGN_OR_RETURN(L.o_bias, r.vector(p + "attn_out.bias", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_w, r.vector(p + "ln2.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_b, r.vector(p + "ln2.bias", H));
  SLUICE_ASSIGN_OR_RETURN(L.w_up, r.matrix(p + up + ".weight", F, H));
  SLUICE_ASSIGN_OR_RETURN(L.up_bias, r.vector(p + up + ".bias", F));
  SLUICE_ASSIGN_OR_RETURN(L.w_down, r.matrix(p + down + ".weight", H, F));
  SLUICE_ASSIGN_OR_RETURN(L.down_bias, r.vector(p + down + ".bias", H));
  return Status::ok();
}

}  // namespace

Result<VisionWeights> load_vision_weights(const GgufFile& g, const VisionConfig& c) {
  const TensorReader r(g);
  VisionWeights w;
  const int64_t H = c.hidden_size, P = c.patch_size;
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* patch,
                          r.shaped("v.patch_embd.weight", {P, P, 3, H}));
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed, r.import(*patch, H, 3 * P * P));
  SLUICE_ASSIGN_OR_RETURN(w.patch_bias, r.vector("v.patch_embd.bias", H));
  SLUICE_ASSIGN_OR_RETURN(Weight pos, r.matrix("v.position_embd.weight", c.num_patches(), H));
  w.position_embed = to_f32(pos);
  const bool swapped = r.ffn_names_swapped(c);
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i)
    SLUICE_RETURN_IF_ERROR(load_layer(r, c, i, swapped, w.layers[static_cast<size_t>(i)]));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_w, r.vector("v.post_ln.weight", H));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_b, r.vector("v.post_ln.bias", H));
  SLUICE_ASSIGN_OR_RETURN(w.soft_emb_norm, r.vector("mm.soft_emb_norm.weight", H));
  SLUICE_ASSIGN_OR_RETURN(Weight proj, r.matrix("mm.input_projection.weight", H, c.projection_dim));
  w.input_projection = transposed(proj);
  return w;
}

}  // namespace sluice
