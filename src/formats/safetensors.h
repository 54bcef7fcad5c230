#pragma once
// Safetensors reader (single file or a directory with shards + index) and writer.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "common/status.h"

namespace sluice {

// Bytes per element of a safetensors dtype ("F32" -> 4), or 0 if unknown.
int64_t safetensors_dtype_size(const std::string& dtype);

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // as in the header: "F32", "F16", "BF16", "U32", "I8", ...
  std::vector<int64_t> shape;  // row-major, outermost first
  const uint8_t* data;         // into the mapped file
  size_t nbytes;
};

// All tensors of a model directory: model.safetensors, or the shards named by
// model.safetensors.index.json (every shard is validated; the index must name existing tensors).
class SafetensorsModel {
 public:
  static Result<std::unique_ptr<SafetensorsModel>> open_dir(const std::string& dir);
  static Result<std::unique_ptr<SafetensorsModel>> open_file(const std::string& path);

  const SafetensorsTensor* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  Status add_file(const std::string& path);
  std::vector<MappedFile> files_;
  std::map<std::string, SafetensorsTensor> tensors_;
  std::map<std::string, std::string> tensor_file_;  // tensor name -> path of its file
};

struct SafetensorsWriteTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
// Writes one .safetensors file (header keys sorted, data 8-byte aligned as the spec requires).
Status write_safetensors(const std::string& path,
                         const std::vector<SafetensorsWriteTensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace sluice
