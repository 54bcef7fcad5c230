// Safetensors tensors by canonical name: HF float weights map without copying; MLX-quantized
// triples (name.weight packed uint32, name.scales, name.biases) are repacked into the family.
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "formats/safetensors.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

namespace sluice {

bool checkpoint_float_dtype(const std::string& d, DType* out) {
  if (d == "F32")
    *out = DType::F32;
  else if (d == "F16")
    *out = DType::F16;
  else if (d == "BF16")
    *out = DType::BF16;
  else
    return false;
  return true;
}

namespace {

// How a checkpoint fuses each layer's experts into "<head>.experts.gate_up_proj" and
// "<head>.experts.down_proj" (E experts, I their width, H the hidden size).
enum class FusedExperts {
  kGptOss,          // gpt-oss: input-major [E, H, 2I], gate and up columns interleaved
  kOutputMajor,     // Qwen3.5 MoE: [E, 2I, H], gate rows then up rows; down [E, H, I]
  kInputMajorHalf,  // Qwen3-VL-MoE as published: [E, H, 2I], gate columns then up; down [E, I, H]
};

// Where the language model's tensors sit, tried in this order: text checkpoints and Qwen2/2.5-VL
// as published ("model."), transformers v5 saves, Qwen3-VL and Qwen3.5 ("model.language_model."),
// Gemma 3 as published and every mlx-vlm conversion ("language_model.model.").
constexpr const char* kTextPrefixes[] = {"model.", "model.language_model.",
                                         "language_model.model."};
constexpr const char* kHeadPrefixes[] = {"", "language_model."};  // before "lm_head."

class SafetensorsWeightSource final : public WeightSource {
 public:
  SafetensorsWeightSource(std::unique_ptr<SafetensorsModel> st, std::string dir, int bits,
                          int group, std::map<std::string, std::pair<int, int>> per_module,
                          FusedExperts fused, OptionalDTypes dtypes)
      : st_(std::move(st)),
        dir_(std::move(dir)),
        config_bits_(bits),
        config_group_(group),
        per_module_(std::move(per_module)),
        fused_(fused),
        dtypes_(dtypes) {
    // The prefix is the one under which the embedding is found (decided once, here).
    for (const char* p : kTextPrefixes)
      if (st_->find(std::string(p) + "embed_tokens.weight")) {
        text_prefix_ = p;
        break;
      }
    for (const char* h : kHeadPrefixes)
      if (st_->find(std::string(h) + "lm_head.weight")) {
        head_prefix_ = h;
        break;
      }
  }

  bool has(const std::string& name) const override { return find(name) != nullptr; }

  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const override {
    const SafetensorsTensor* t = find(name);
    if (!t) return missing(name);
    const std::string base = name.substr(0, name.rfind(".weight"));
    const SafetensorsTensor* scales = find(base + ".scales");
    if (scales) return rows8_if_picked(mlx_matrix(*t, *scales, base, rows, cols), rows, dtypes_);
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt))
      return fail("tensor '" + t->name + "' has dtype " + t->dtype +
                  " (expected F32, F16 or BF16)");
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols)
      return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(rows) + ", " + std::to_string(cols) + "]");
    return Weight::from_mapped(dt, rows, cols, t->data);
  }

  // MLX stacks the experts ("mlp.switch_mlp.gate_proj.weight" [experts, rows, cols], quantized
  // or not); Hugging Face keeps one tensor per expert ("mlp.experts.E.gate_proj.weight").
  Result<Weight> experts(const std::string& name, int64_t num_experts, int64_t rows,
                         int64_t cols) const override {
    const std::string marker = ".experts.";
    const size_t at = name.find(marker);
    if (at == std::string::npos) return fail("'" + name + "' is not an experts tensor");
    const std::string head = name.substr(0, at), proj = name.substr(at + marker.size());
    if (const std::string mlx = head + ".switch_mlp." + proj; find(mlx)) {
      const SafetensorsTensor* t = find(mlx);
      if (t->shape.size() != 3 || t->shape[0] != num_experts || t->shape[1] != rows)
        return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                    std::to_string(num_experts) + ", " + std::to_string(rows) + ", ...]");
      const std::string base = mlx.substr(0, mlx.rfind(".weight"));
      if (const SafetensorsTensor* scales = find(base + ".scales"))
        return rows8_if_picked(mlx_matrix(*t, *scales, base, num_experts * rows, cols), rows,
                               dtypes_);
      DType dt;
      if (!checkpoint_float_dtype(t->dtype, &dt) || t->shape[2] != cols)
        return fail("tensor '" + t->name + "' has dtype " + t->dtype + " and shape " +
                    shape_str(t->shape) + " (expected a float [.., " + std::to_string(cols) + "])");
      return Weight::from_mapped(dt, num_experts * rows, cols, t->data);
    }
    if (const std::string fused = gpt_oss_fused(head, proj); !fused.empty()) {
      const SafetensorsTensor* t = find(fused);
      const int64_t parts = proj == "down_proj.weight" ? 1 : 2;
      // Qwen3-VL-MoE saved output-major (as transformers 5 holds it in memory) reads as Qwen3.5's.
      if (t && (fused_ == FusedExperts::kOutputMajor ||
                (fused_ == FusedExperts::kInputMajorHalf &&
                 t->shape == std::vector<int64_t>{num_experts, parts * rows, cols} &&
                 parts * rows != cols)))
        return output_major_experts(fused, proj, num_experts, rows, cols);
      if (t) return input_major_experts(fused, proj, num_experts, rows, cols);
      if (find(fused + "_blocks"))
        return gpt_oss_mxfp4_experts(fused, proj, num_experts, rows, cols);
    }
    if (const std::string stacked = head + ".experts." + proj; find(stacked)) {
      const SafetensorsTensor* t = find(stacked);  // mlx-lm's gpt-oss: SwitchGLU "experts"
      const std::string base = stacked.substr(0, stacked.rfind(".weight"));
      if (const SafetensorsTensor* scales = find(base + ".scales"))
        return rows8_if_picked(mlx_matrix(*t, *scales, base, num_experts * rows, cols), rows,
                               dtypes_);
      DType dt;
      if (!checkpoint_float_dtype(t->dtype, &dt) ||
          t->shape != std::vector<int64_t>{num_experts, rows, cols})
        return fail("tensor '" + t->name + "' has dtype " + t->dtype + " and shape " +
                    shape_str(t->shape) + " (expected a float [" + std::to_string(num_experts) +
                    ", " + std::to_string(rows) + ", " + std::to_string(cols) + "])");
      return Weight::from_mapped(dt, num_experts * rows, cols, t->data);
    }
    std::vector<uint8_t> bytes;
    DType dt = DType::F32;
    for (int64_t e = 0; e < num_experts; ++e) {
      const std::string one = head + ".experts." + std::to_string(e) + "." + proj;
      SLUICE_ASSIGN_OR_RETURN(Weight w, matrix(one, rows, cols));
      if (is_quantized(w.dtype) || (e > 0 && w.dtype != dt))
        return fail("expert tensor '" + one + "': experts must share one float dtype");
      dt = w.dtype;
      bytes.insert(bytes.end(), w.data, w.data + w.nbytes());
    }
    return Weight::from_owned(dt, num_experts * rows, cols, std::move(bytes));
  }

  // Stacked [experts, n] (mlx-lm), or Hugging Face gpt-oss's gate_up_proj_bias (gate and up
  // interleaved) and down_proj_bias.
  Result<std::vector<float>> expert_biases(const std::string& name, int64_t num_experts,
                                           int64_t n) const override {
    const size_t at = name.find(".experts.");
    if (at == std::string::npos) return fail("'" + name + "' is not an experts tensor");
    const std::string head = name.substr(0, at + 9), proj = name.substr(at + 9);
    const bool gate = proj == "gate_proj.bias", up = proj == "up_proj.bias";
    const std::string fused = head + (gate || up ? "gate_up_proj_bias" : "down_proj_bias");
    const SafetensorsTensor* t = find(name);
    const bool interleaved = !t && (gate || up);
    if (!t) t = find(fused);
    if (!t) return fail("missing tensor '" + file_name(name) + "' (or '" + file_name(fused) + "')");
    const int64_t width = interleaved ? 2 * n : n;
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt) ||
        t->shape != std::vector<int64_t>{num_experts, width})
      return fail("tensor '" + t->name + "' has dtype " + t->dtype + " and shape " +
                  shape_str(t->shape) + " (expected a float [" + std::to_string(num_experts) +
                  ", " + std::to_string(width) + "])");
    const Weight w = Weight::from_mapped(dt, num_experts, width, t->data);
    std::vector<float> row(width), out(num_experts * n);
    for (int64_t e = 0; e < num_experts; ++e) {
      dequantize_row(w, e, row.data());
      for (int64_t i = 0; i < n; ++i)
        out[e * n + i] = interleaved ? row[2 * i + (up ? 1 : 0)] : row[i];
    }
    return out;
  }

  Result<std::vector<float>> vector(const std::string& name, int64_t n) const override {
    const SafetensorsTensor* t = find(name);
    if (!t) return missing(name);
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt))
      return fail("tensor '" + t->name + "' has dtype " + t->dtype +
                  " (expected F32, F16 or BF16)");
    if (t->shape.size() != 1 || t->shape[0] != n)
      return fail("tensor '" + t->name + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(n) + "]");
    std::vector<float> out(n);
    dequantize_row(Weight::from_mapped(dt, 1, n, t->data), 0, out.data());
    return out;
  }

  Result<std::vector<float>> conv_kernel(const std::string& name, int64_t channels,
                                         int64_t kernel) const override {
    const SafetensorsTensor* t = find(name);
    if (!t) return missing(name);
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt))
      return fail("tensor '" + t->name + "' has dtype " + t->dtype +
                  " (expected F32, F16 or BF16)");
    // [C, 1, K], [C, K, 1] and [C, K] hold the same values in the same order.
    const std::vector<int64_t>& sh = t->shape;
    const bool ok = (sh.size() == 3 && sh[0] == channels &&
                     ((sh[1] == 1 && sh[2] == kernel) || (sh[1] == kernel && sh[2] == 1))) ||
                    (sh.size() == 2 && sh[0] == channels && sh[1] == kernel);
    if (!ok)
      return fail("tensor '" + t->name + "' has shape " + shape_str(sh) + ", expected [" +
                  std::to_string(channels) + ", 1, " + std::to_string(kernel) +
                  "] (a depthwise conv of kernel size " + std::to_string(kernel) + ")");
    std::vector<float> out(channels * kernel);
    dequantize_row(Weight::from_mapped(dt, 1, channels * kernel, t->data), 0, out.data());
    return out;
  }

 private:
  Result<Weight> mlx_matrix(const SafetensorsTensor& packed, const SafetensorsTensor& scales,
                            const std::string& base, int64_t rows, int64_t cols) const {
    const SafetensorsTensor* biases = find(base + ".biases");
    if (!biases) return fail("MLX-quantized '" + base + "' has scales but no biases");
    if (packed.dtype != "U32")
      return fail("MLX-quantized '" + base + ".weight' has dtype " + packed.dtype +
                  " (expected U32)");
    // Stacked experts [experts, r, c] read as one [experts * r, c] matrix.
    auto flat = [](std::vector<int64_t> sh) {
      if (sh.size() == 3) sh = {sh[0] * sh[1], sh[2]};
      return sh;
    };
    const std::vector<int64_t> pshape = flat(packed.shape), sshape = flat(scales.shape);
    if (pshape.size() != 2 || pshape[0] != rows || sshape.size() != 2 || sshape[0] != rows ||
        sshape[1] <= 0 || biases->shape != scales.shape)
      return fail("MLX-quantized '" + base + "' has shapes weight " + shape_str(packed.shape) +
                  ", scales " + shape_str(scales.shape) + ", biases " + shape_str(biases->shape) +
                  " for a [" + std::to_string(rows) + ", " + std::to_string(cols) + "] matrix");
    // Bits and group size follow from the shapes; they must agree with config.json.
    const int64_t packed_bits = pshape[1] * 32;
    if (packed_bits % cols != 0 || cols % sshape[1] != 0)
      return fail("MLX-quantized '" + base + "': shapes do not divide the " + std::to_string(cols) +
                  " input columns");
    const int bits = static_cast<int>(packed_bits / cols);
    const int group = static_cast<int>(cols / sshape[1]);
    if (bits != 4 && bits != 8)
      return fail("MLX-quantized '" + base + "' uses " + std::to_string(bits) +
                  "-bit codes (supported: 4, 8)");
    if (group != 32 && group != 64 && group != 128)
      return fail("MLX-quantized '" + base + "' uses group size " + std::to_string(group) +
                  " (supported: 32, 64, 128)");
    int want_bits = config_bits_, want_group = config_group_;
    if (auto it = per_module_.find(file_name(base)); it != per_module_.end())
      std::tie(want_bits, want_group) = it->second;
    if (want_bits && (bits != want_bits || group != want_group))
      return fail("MLX-quantized '" + base + "' is " + std::to_string(bits) + "-bit group " +
                  std::to_string(group) + " but config.json says " + std::to_string(want_bits) +
                  "-bit group " + std::to_string(want_group));
    MlxScaleType st;
    if (scales.dtype == "F32")
      st = MlxScaleType::F32;
    else if (scales.dtype == "F16")
      st = MlxScaleType::F16;
    else if (scales.dtype == "BF16")
      st = MlxScaleType::BF16;
    else
      return fail("MLX scales of '" + base + "' have dtype " + scales.dtype);
    if (biases->dtype != scales.dtype)
      return fail("MLX biases and scales of '" + base + "' differ in dtype");
    auto w = import_mlx_quantized(reinterpret_cast<const uint32_t*>(packed.data), scales.data,
                                  biases->data, st, bits, group, rows, cols);
    if (!w) return fail("'" + base + "': " + w.error());
    return w;
  }

  // Hugging Face gpt-oss keeps gate and up fused: "<head>.experts.gate_up_proj".
  static std::string gpt_oss_fused(const std::string& head, const std::string& proj) {
    if (proj == "gate_proj.weight" || proj == "up_proj.weight")
      return head + ".experts.gate_up_proj";
    if (proj == "down_proj.weight") return head + ".experts.down_proj";
    return "";
  }

  // gate_up_proj [experts, hidden, 2 * inter] (gate and up columns interleaved for gpt-oss,
  // halves for Qwen3-VL-MoE) and down_proj [experts, inter, hidden] are stored input-major:
  // transposed here into [experts * rows, cols].
  Result<Weight> input_major_experts(const std::string& fused, const std::string& proj,
                                     int64_t num_experts, int64_t rows, int64_t cols) const {
    const SafetensorsTensor* t = find(fused);
    const bool down = proj == "down_proj.weight";
    const int64_t width = down ? rows : 2 * rows;
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt) ||
        t->shape != std::vector<int64_t>{num_experts, cols, width})
      return fail("tensor '" + t->name + "' has dtype " + t->dtype + " and shape " +
                  shape_str(t->shape) + " (expected a float [" + std::to_string(num_experts) +
                  ", " + std::to_string(cols) + ", " + std::to_string(width) + "])");
    const size_t es = dt == DType::F32 ? 4 : 2;
    const bool up = proj == "up_proj.weight", halves = fused_ == FusedExperts::kInputMajorHalf;
    const int64_t step = down || halves ? 1 : 2;
    const int64_t first = !up ? 0 : halves ? rows : 1;
    std::vector<uint8_t> bytes(static_cast<size_t>(num_experts * rows * cols) * es);
    for (int64_t e = 0; e < num_experts; ++e)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          std::memcpy(&bytes[((e * rows + r) * cols + c) * es],
                      t->data + ((e * cols + c) * width + first + step * r) * es, es);
    return Weight::from_owned(dt, num_experts * rows, cols, std::move(bytes));
  }

  // As gpt-oss is published: "<fused>_blocks" [experts, width, cols/32, 16] and "_scales"
  // [experts, width, cols/32] (OCP MXFP4), width = 2 * inter for gate_up (gate rows even, up
  // odd) or hidden for down; the selected rows are gathered and imported losslessly.
  Result<Weight> gpt_oss_mxfp4_experts(const std::string& fused, const std::string& proj,
                                       int64_t num_experts, int64_t rows, int64_t cols) const {
    const std::string bname = fused + "_blocks", sname = fused + "_scales";
    const SafetensorsTensor* b = find(bname);
    const SafetensorsTensor* sc = find(sname);
    if (!sc) return fail("missing tensor '" + sname + "' (the scales of '" + bname + "')");
    if (cols % 32 != 0)
      return fail("'" + bname + "': " + std::to_string(cols) + " columns are not a multiple of 32");
    const bool down = proj == "down_proj.weight";
    const int64_t width = down ? rows : 2 * rows, groups = cols / 32;
    if (b->dtype != "U8" || b->shape != std::vector<int64_t>{num_experts, width, groups, 16})
      return fail("tensor '" + bname + "' has dtype " + b->dtype + " and shape " +
                  shape_str(b->shape) + " (expected U8 [" + std::to_string(num_experts) + ", " +
                  std::to_string(width) + ", " + std::to_string(groups) + ", 16])");
    if (sc->dtype != "U8" || sc->shape != std::vector<int64_t>{num_experts, width, groups})
      return fail("tensor '" + sname + "' has dtype " + sc->dtype + " and shape " +
                  shape_str(sc->shape) + " (expected U8 [" + std::to_string(num_experts) + ", " +
                  std::to_string(width) + ", " + std::to_string(groups) + "])");
    const int64_t first = down ? 0 : (proj == "up_proj.weight" ? 1 : 0), step = down ? 1 : 2;
    std::vector<uint8_t> blocks(static_cast<size_t>(num_experts * rows * groups * 16));
    std::vector<uint8_t> scales(static_cast<size_t>(num_experts * rows * groups));
    for (int64_t e = 0; e < num_experts; ++e)
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t src = e * width + first + step * r, dst = e * rows + r;
        std::memcpy(&blocks[dst * groups * 16], b->data + src * groups * 16, groups * 16);
        std::memcpy(&scales[dst * groups], sc->data + src * groups, groups);
      }
    auto w = import_mxfp4_ocp(blocks.data(), scales.data(), num_experts * rows, cols);
    if (!w) return fail("'" + bname + "': " + w.error());
    return w;
  }

  Status fail(const std::string& what) const {
    return Status::error("safetensors", dir_ + ": " + what);
  }

  // The file's name of a canonical one: "model.x" under the text prefix, the head as found.
  std::string file_name(const std::string& name) const {
    if (name.rfind("model.", 0) == 0) return text_prefix_ + name.substr(6);
    if (name.rfind("lm_head.", 0) == 0) return head_prefix_ + name;
    return name;
  }
  const SafetensorsTensor* find(const std::string& name) const {
    return st_->find(file_name(name));
  }
  Status missing(const std::string& name) const {
    std::string where;
    if (!found_embedding()) {
      for (const char* p : kTextPrefixes) where += std::string(where.empty() ? "" : ", ") + p;
      where = " (the language model's embed_tokens.weight is under none of " + where + ")";
    }
    return fail("missing tensor '" + file_name(name) + "'" + where);
  }
  bool found_embedding() const { return st_->find(text_prefix_ + "embed_tokens.weight"); }

  // Qwen3.5 MoE: gate_up_proj [experts, 2 * inter, hidden] (gate rows, then up rows) and
  // down_proj [experts, hidden, inter], output-major: expert e's rows picked out of them.
  Result<Weight> output_major_experts(const std::string& fused, const std::string& proj,
                                      int64_t num_experts, int64_t rows, int64_t cols) const {
    const SafetensorsTensor* t = find(fused);
    const bool down = proj == "down_proj.weight", up = proj == "up_proj.weight";
    const int64_t parts = down ? 1 : 2;
    DType dt;
    if (!checkpoint_float_dtype(t->dtype, &dt) ||
        t->shape != std::vector<int64_t>{num_experts, parts * rows, cols})
      return fail("tensor '" + t->name + "' has dtype " + t->dtype + " and shape " +
                  shape_str(t->shape) + " (expected a float [" + std::to_string(num_experts) +
                  ", " + std::to_string(parts * rows) + ", " + std::to_string(cols) + "])");
    const Weight all = Weight::from_mapped(dt, num_experts * parts * rows, cols, t->data);
    if (down) return all;
    std::vector<int64_t> pick;
    for (int64_t e = 0; e < num_experts; ++e)
      for (int64_t r = 0; r < rows; ++r) pick.push_back((e * 2 + (up ? 1 : 0)) * rows + r);
    return all.select_rows(pick);
  }

  std::unique_ptr<SafetensorsModel> st_;
  std::string dir_;
  int config_bits_ = 0;
  int config_group_ = 0;
  std::map<std::string, std::pair<int, int>> per_module_;  // mlx-lm per-layer overrides
  FusedExperts fused_ = FusedExperts::kGptOss;
  OptionalDTypes dtypes_;
  std::string text_prefix_ = kTextPrefixes[0];
  std::string head_prefix_;
};

}  // namespace

Result<std::unique_ptr<WeightSource>> make_safetensors_weight_source(const std::string& dir,
                                                                     const nlohmann::json& config,
                                                                     OptionalDTypes dtypes) {
  int bits = 0, group = 0;
  const nlohmann::json* q = nullptr;
  if (auto it = config.find("quantization"); it != config.end())
    q = &*it;
  else if (auto it2 = config.find("quantization_config"); it2 != config.end())
    q = &*it2;
  // transformers' MXFP4 (gpt-oss as published): experts in "*_blocks"/"*_scales", the rest float.
  if (q && q->is_object() && q->contains("quant_method") && (*q)["quant_method"] == "mxfp4")
    q = nullptr;
  if (q) {
    if (!q->is_object() || !q->contains("bits") || !q->contains("group_size") ||
        !(*q)["bits"].is_number_integer() || !(*q)["group_size"].is_number_integer())
      return Status::error("config", dir +
                                         ": 'quantization' needs integer bits and group_size "
                                         "(only MLX affine quantization is supported)");
    bits = (*q)["bits"].get<int>();
    group = (*q)["group_size"].get<int>();
    if (bits != 4 && bits != 8)
      return Status::error("config", dir + ": unsupported quantization bits " +
                                         std::to_string(bits) + " (supported: 4, 8)");
    if (group != 32 && group != 64 && group != 128)
      return Status::error("config", dir + ": unsupported quantization group_size " +
                                         std::to_string(group) + " (supported: 32, 64, 128)");
  }
  // mlx-lm per-module overrides: "quantization": {..., "model.embed_tokens": {bits, group_size}}.
  std::map<std::string, std::pair<int, int>> per_module;
  if (q)
    for (auto it = q->begin(); it != q->end(); ++it) {
      const nlohmann::json& v = it.value();
      if (!v.is_object()) continue;
      if (!v.contains("bits") || !v["bits"].is_number_integer() || !v.contains("group_size") ||
          !v["group_size"].is_number_integer())
        return Status::error("config", dir + ": quantization override '" + it.key() +
                                           "' needs integer bits and group_size");
      per_module[it.key()] = {v["bits"].get<int>(), v["group_size"].get<int>()};
    }
  SLUICE_ASSIGN_OR_RETURN(auto st, SafetensorsModel::open_dir(dir));
  const nlohmann::json& text = config.contains("text_config") ? config["text_config"] : config;
  const std::string type = text.value("model_type", config.value("model_type", std::string()));
  const FusedExperts fused = type.rfind("qwen3_5_moe", 0) == 0    ? FusedExperts::kOutputMajor
                             : type.rfind("qwen3_vl_moe", 0) == 0 ? FusedExperts::kInputMajorHalf
                                                                  : FusedExperts::kGptOss;
  return std::unique_ptr<WeightSource>(std::make_unique<SafetensorsWeightSource>(
      std::move(st), dir, bits, group, std::move(per_module), fused, dtypes));
}

}  // namespace sluice
