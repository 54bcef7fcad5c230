#include "model/vision/mmproj_tensors.h"

#include <cstring>

#include "formats/gguf.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

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

Status MmprojTensors::fail(const std::string& what) const {
  return Status::error("mmproj", g_.path() + ": " + what);
}

bool MmprojTensors::has(const std::string& name) const {
  return g_.tensor(name) != nullptr;
}

Result<const GgufTensorInfo*> MmprojTensors::shaped(const std::string& name,
                                                    const std::vector<int64_t>& shape) const {
  const GgufTensorInfo* t = g_.tensor(name);
  if (!t) return fail("missing tensor '" + name + "'");
  if (t->shape != shape)
    return fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected " +
                shape_str(shape) + " (ggml order)");
  return t;
}

Result<Weight> MmprojTensors::import(const GgufTensorInfo& t, int64_t rows, int64_t cols) const {
  auto w = import_gguf_tensor(t, rows, cols);
  if (!w) return fail(w.error());
  return w;
}

Result<Weight> MmprojTensors::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {cols, rows}));
  return import(*t, rows, cols);
}

Result<Weight> MmprojTensors::vector(const std::string& name, int64_t n) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {n}));
  SLUICE_ASSIGN_OR_RETURN(Weight w, import(*t, 1, n));
  return to_f32(w);
}

Result<Weight> MmprojTensors::patch_conv(const std::string& name, int64_t hidden,
                                         int64_t patch) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {patch, patch, 3, hidden}));
  return import(*t, hidden, 3 * patch * patch);
}

}  // namespace sluice
