#include "model/vision/hf_mmproj_tensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "formats/safetensors.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

int64_t element_count(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Weight owned_f32(std::vector<float> v, int64_t rows, int64_t cols) {
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return Weight::from_owned(DType::F32, rows, cols, std::move(bytes));
}

}  // namespace

bool holds_vision_tensors(const std::string& dir) {
  auto f = SafetensorsModel::open_dir(dir);
  if (!f) return true;  // its loading will say what is wrong
  for (const std::string& name : (*f)->names())
    for (ProjectorType t : {ProjectorType::kGemma3, ProjectorType::kQwen3VL})
      for (const std::string& prefix : hf_part_prefixes(t, HfPart::kTower))
        if (name.starts_with(prefix)) return true;
  return false;
}

HfMmprojTensors::HfMmprojTensors(std::string dir, const VisionConfig& c) : dir_(std::move(dir)) {
  for (HfVisionTensor& e : hf_vision_tensors(c)) table_.emplace(e.mmproj, std::move(e));
}

HfMmprojTensors::~HfMmprojTensors() = default;

Result<std::unique_ptr<HfMmprojTensors>> HfMmprojTensors::open(const std::string& dir,
                                                               const VisionConfig& c) {
  std::unique_ptr<HfMmprojTensors> r(new HfMmprojTensors(dir, c));
  // The index, else model.safetensors, else every *.safetensors file.
  auto f = SafetensorsModel::open_dir(dir);
  if (!f) return r->fail(f.error());
  r->files_.push_back(std::move(*f));
  // Each part's prefix: the first under which its first tensor exists.
  const std::vector<HfVisionTensor> tensors = hf_vision_tensors(c);
  for (HfPart part : {HfPart::kTower, HfPart::kProjector}) {
    const auto first = std::find_if(tensors.begin(), tensors.end(),
                                    [&](const HfVisionTensor& e) { return e.part == part; });
    if (first == tensors.end()) continue;
    std::string tried;
    std::string& prefix = part == HfPart::kTower ? r->tower_prefix_ : r->projector_prefix_;
    for (const std::string& p : hf_part_prefixes(c.projector, part)) {
      if (r->find(p + first->name)) {
        prefix = p;
        break;
      }
      tried += (tried.empty() ? "'" : ", '") + p + first->name + "'";
    }
    if (prefix.empty())
      return r->fail(std::string("no vision ") + (part == HfPart::kTower ? "tower" : "projector") +
                     " tensors: none of " + tried + " exists");
  }
  return r;
}

Status HfMmprojTensors::fail(const std::string& what) const {
  return Status::error("vision", dir_ + ": " + what);
}

const SafetensorsTensor* HfMmprojTensors::find(const std::string& full) const {
  for (const auto& f : files_)
    if (const SafetensorsTensor* t = f->find(full)) return t;
  return nullptr;
}

std::string HfMmprojTensors::full_name(const HfVisionTensor& e) const {
  return (e.part == HfPart::kTower ? tower_prefix_ : projector_prefix_) + e.name;
}

Result<const HfVisionTensor*> HfMmprojTensors::entry(const std::string& name) const {
  auto it = table_.find(name);
  if (it == table_.end())
    return fail("tensor '" + name + "' has no checkpoint counterpart in this vision family");
  return &it->second;
}

Result<const SafetensorsTensor*> HfMmprojTensors::tensor(const HfVisionTensor& e) const {
  const SafetensorsTensor* t = find(full_name(e));
  if (!t) return fail("missing tensor '" + full_name(e) + "' (llama.cpp's '" + e.mmproj + "')");
  return t;
}

bool HfMmprojTensors::has(const std::string& name) const {
  auto it = table_.find(name);
  return it != table_.end() && find(full_name(it->second));
}

std::vector<int64_t> HfMmprojTensors::ggml_shape(const std::string& name) const {
  auto it = table_.find(name);
  if (it == table_.end() || !find(full_name(it->second))) return {};
  const HfVisionTensor& e = it->second;
  switch (e.layout) {
    case HfLayout::kSame:
    case HfLayout::kPlusOne:
      return {e.shape.rbegin(), e.shape.rend()};
    case HfLayout::kRows:
      return e.shape.size() == 1 ? std::vector<int64_t>{e.count}
                                 : std::vector<int64_t>{e.shape[1], e.count};
    case HfLayout::kConv2d:
    case HfLayout::kConv3dFrame:
      return {e.shape.back(), e.shape.back(), 3, e.shape[0]};
  }
  return {};
}

Result<Weight> HfMmprojTensors::whole(const HfVisionTensor& e, int64_t rows, int64_t cols) const {
  SLUICE_ASSIGN_OR_RETURN(const SafetensorsTensor* t, tensor(e));
  const std::string name = full_name(e);
  const std::string base = name.size() > 7 && name.ends_with(".weight")
                               ? name.substr(0, name.size() - 7)
                               : std::string();
  const SafetensorsTensor* scales = base.empty() ? nullptr : find(base + ".scales");
  if (scales) {  // MLX affine: packed [rows, cols * bits / 32] U32, scales/biases [rows, groups]
    const SafetensorsTensor* biases = find(base + ".biases");
    if (!biases) return fail("MLX-quantized '" + base + "' has scales but no biases");
    if (t->dtype != "U32" || t->shape.size() != 2 || t->shape[0] != rows ||
        scales->shape.size() != 2 || scales->shape[0] != rows || scales->shape[1] <= 0 ||
        biases->shape != scales->shape || (t->shape[1] * 32) % cols != 0 ||
        cols % scales->shape[1] != 0)
      return fail("MLX-quantized '" + base + "' has weight " + t->dtype + " " +
                  shape_str(t->shape) + ", scales " + shape_str(scales->shape) + ", biases " +
                  shape_str(biases->shape) + " for a [" + std::to_string(rows) + ", " +
                  std::to_string(cols) + "] matrix");
    MlxScaleType st;
    if (scales->dtype == "F32")
      st = MlxScaleType::F32;
    else if (scales->dtype == "F16")
      st = MlxScaleType::F16;
    else if (scales->dtype == "BF16")
      st = MlxScaleType::BF16;
    else
      return fail("MLX-quantized '" + base + "' has scales of dtype " + scales->dtype);
    const int bits = static_cast<int>(t->shape[1] * 32 / cols);
    const int group = static_cast<int>(cols / scales->shape[1]);
    auto w = import_mlx_quantized(reinterpret_cast<const uint32_t*>(t->data), scales->data,
                                  biases->data, st, bits, group, rows, cols);
    if (!w) return fail("MLX-quantized '" + base + "': " + w.error());
    return w;
  }
  DType dt;
  if (!checkpoint_float_dtype(t->dtype, &dt))
    return fail("tensor '" + name + "' has dtype " + t->dtype + " (expected F32, F16 or BF16)");
  if (t->shape != e.shape)
    return fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected " +
                shape_str(e.shape));
  return Weight::from_mapped(dt, rows, cols, t->data);
}

Result<Weight> HfMmprojTensors::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  SLUICE_ASSIGN_OR_RETURN(const HfVisionTensor* e, entry(name));
  const bool rows_of = e->layout == HfLayout::kRows;
  if ((e->layout != HfLayout::kSame && !rows_of) || e->shape.size() != 2 || e->shape[1] != cols ||
      (rows_of ? e->count : e->shape[0]) != rows)
    return fail("tensor '" + name + "' is not a [" + std::to_string(rows) + ", " +
                std::to_string(cols) + "] matrix in this vision family");
  SLUICE_ASSIGN_OR_RETURN(Weight w, whole(*e, e->shape[0], cols));
  return rows_of ? w.rows_view(e->first, e->count) : w;
}

Result<Weight> HfMmprojTensors::vector(const std::string& name, int64_t n) const {
  SLUICE_ASSIGN_OR_RETURN(const HfVisionTensor* e, entry(name));
  const bool rows_of = e->layout == HfLayout::kRows;
  if ((e->layout != HfLayout::kSame && !rows_of && e->layout != HfLayout::kPlusOne) ||
      e->shape.size() != 1 || (rows_of ? e->count : e->shape[0]) != n)
    return fail("tensor '" + name + "' is not a vector of " + std::to_string(n) +
                " in this vision family");
  SLUICE_ASSIGN_OR_RETURN(Weight w, whole(*e, 1, e->shape[0]));
  if (is_quantized(w.dtype)) return fail("vector '" + full_name(*e) + "' is quantized");
  std::vector<float> v(static_cast<size_t>(e->shape[0]));
  dequantize_row(w, 0, v.data());
  if (rows_of) v = std::vector<float>(v.begin() + e->first, v.begin() + e->first + e->count);
  if (e->layout == HfLayout::kPlusOne)
    for (float& x : v) x += 1.0f;
  return owned_f32(std::move(v), 1, n);
}

Result<Weight> HfMmprojTensors::patch_conv(const std::string& name, int64_t hidden,
                                           int64_t patch) const {
  SLUICE_ASSIGN_OR_RETURN(const HfVisionTensor* e, entry(name));
  if ((e->layout != HfLayout::kConv2d && e->layout != HfLayout::kConv3dFrame) ||
      e->shape[0] != hidden || e->shape.back() != patch)
    return fail("tensor '" + name + "' is not a patch convolution of width " +
                std::to_string(hidden) + " and patch " + std::to_string(patch));
  SLUICE_ASSIGN_OR_RETURN(const SafetensorsTensor* t, tensor(*e));
  const std::vector<int64_t> mlx_shape = mlx_conv_shape(e->shape);
  const bool mlx = t->shape == mlx_shape;
  DType dt;
  if (!checkpoint_float_dtype(t->dtype, &dt))
    return fail("tensor '" + full_name(*e) + "' has dtype " + t->dtype +
                " (expected F32, F16 or BF16)");
  if (t->shape != e->shape && !mlx)
    return fail("tensor '" + full_name(*e) + "' has shape " + shape_str(t->shape) + ", expected " +
                shape_str(e->shape) + " (transformers) or " + shape_str(mlx_shape) +
                " (MLX, channels last)");
  std::vector<float> all(static_cast<size_t>(element_count(e->shape)));
  dequantize_row(Weight::from_mapped(dt, 1, element_count(e->shape), t->data), 0, all.data());
  // [hidden, 3 * P * P], columns (channel, y, x), from frame e->first of a Conv3d
  const int64_t P = patch;
  std::vector<float> out(static_cast<size_t>(hidden * 3 * P * P));
  size_t i = 0;
  for (int64_t h = 0; h < hidden; ++h)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < P; ++y)
        for (int64_t x = 0; x < P; ++x)
          out[i++] = all[static_cast<size_t>(conv_index(e->shape, mlx, h, c, e->first, y, x))];
  return owned_f32(std::move(out), hidden, 3 * P * P);
}

}  // namespace sluice
