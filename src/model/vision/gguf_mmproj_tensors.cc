#include "model/vision/gguf_mmproj_tensors.h"

#include "formats/gguf.h"
#include "model/load/quant_import.h"
#include "model/load/weight_source.h"

namespace sluice {

GgufMmprojTensors::GgufMmprojTensors(const GgufFile& g) : g_(g) {}

GgufMmprojTensors::~GgufMmprojTensors() = default;

GgufMmprojTensors::GgufMmprojTensors(std::unique_ptr<GgufFile> owned)
    : owned_(std::move(owned)), g_(*owned_) {}

Result<std::unique_ptr<GgufMmprojTensors>> GgufMmprojTensors::open(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::open(path));
  return std::unique_ptr<GgufMmprojTensors>(new GgufMmprojTensors(std::move(file)));
}

Status GgufMmprojTensors::fail(const std::string& what) const {
  return Status::error("mmproj", g_.path() + ": " + what);
}

bool GgufMmprojTensors::has(const std::string& name) const {
  return g_.tensor(name) != nullptr;
}

std::vector<int64_t> GgufMmprojTensors::ggml_shape(const std::string& name) const {
  const GgufTensorInfo* t = g_.tensor(name);
  return t ? t->shape : std::vector<int64_t>{};
}

Result<const GgufTensorInfo*> GgufMmprojTensors::shaped(const std::string& name,
                                                        const std::vector<int64_t>& shape) const {
  const GgufTensorInfo* t = g_.tensor(name);
  if (!t) return fail("missing tensor '" + name + "'");
  if (t->shape != shape)
    return fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected " +
                shape_str(shape) + " (ggml order)");
  return t;
}

Result<Weight> GgufMmprojTensors::import(const GgufTensorInfo& t, int64_t rows,
                                         int64_t cols) const {
  auto w = import_gguf_tensor(t, rows, cols);
  if (!w) return fail(w.error());
  return w;
}

Result<Weight> GgufMmprojTensors::matrix(const std::string& name, int64_t rows,
                                         int64_t cols) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {cols, rows}));
  return import(*t, rows, cols);
}

Result<Weight> GgufMmprojTensors::vector(const std::string& name, int64_t n) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {n}));
  SLUICE_ASSIGN_OR_RETURN(Weight w, import(*t, 1, n));
  return to_f32(w);
}

Result<Weight> GgufMmprojTensors::patch_conv(const std::string& name, int64_t hidden,
                                             int64_t patch) const {
  SLUICE_ASSIGN_OR_RETURN(const GgufTensorInfo* t, shaped(name, {patch, patch, 3, hidden}));
  return import(*t, hidden, 3 * patch * patch);
}

}  // namespace sluice
