#pragma once
// MmprojTensors over llama.cpp's mmproj GGUF: the names are the file's own.
#include <memory>
#include <string>

#include "model/vision/mmproj_tensors.h"

namespace sluice {

class GgufFile;
struct GgufTensorInfo;

class GgufMmprojTensors final : public MmprojTensors {
 public:
  // Over `g`, which must outlive this and every Weight taken from it.
  explicit GgufMmprojTensors(const GgufFile& g);
  ~GgufMmprojTensors() override;
  // Over the file at `path`, kept mapped as long as this lives (Weights point into it).
  static Result<std::unique_ptr<GgufMmprojTensors>> open(const std::string& path);

  const GgufFile& file() const { return g_; }

  Status fail(const std::string& what) const override;
  bool has(const std::string& name) const override;
  std::vector<int64_t> ggml_shape(const std::string& name) const override;
  Result<Weight> matrix(const std::string& name, int64_t rows, int64_t cols) const override;
  Result<Weight> vector(const std::string& name, int64_t n) const override;
  Result<Weight> patch_conv(const std::string& name, int64_t hidden, int64_t patch) const override;

 private:
  GgufMmprojTensors(std::unique_ptr<GgufFile> owned);
  // The tensor, of exactly `shape` (ggml order).
  Result<const GgufTensorInfo*> shaped(const std::string& name,
                                       const std::vector<int64_t>& shape) const;
  Result<Weight> import(const GgufTensorInfo& t, int64_t rows, int64_t cols) const;

  std::unique_ptr<GgufFile> owned_;
  const GgufFile& g_;
};

}  // namespace sluice
