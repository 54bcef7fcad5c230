#pragma once
// GGUF v2/v3 reader (memory-mapped) and writer. Knows the file format only, not models.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/mapped_file.h"
#include "common/status.h"

namespace sluice {

// ggml tensor types (values as in the GGUF spec).
enum class GgufType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
  MXFP4 = 39,
};
// Name as ggml prints it ("Q4_K"), or "type N" for unknown values.
std::string gguf_type_name(GgufType type);
// Elements per block and bytes per block for the supported types; false if unsupported.
bool gguf_type_block(GgufType type, int64_t* block_elems, int64_t* block_bytes);

// A metadata value: scalars, strings, or arrays of them (arrays of arrays are kept nested).
struct GgufValue;

// Metadata value types (GGUF spec), as stored in the file.
namespace gguf_value {
enum Type : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
}  // namespace gguf_value
using GgufArray = std::vector<GgufValue>;
struct GgufValue {
  std::variant<int64_t, uint64_t, double, bool, std::string, GgufArray> v;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // ggml order: shape[0] is the innermost (contiguous) dimension
  GgufType type;
  uint64_t offset;      // from the start of the data section
  const uint8_t* data;  // into the mapped file
  size_t nbytes;
  int64_t num_elements() const;
};

class GgufFile {
 public:
  // Validates header, metadata, tensor infos, alignment and that all tensor data lies inside the
  // file. A tensor of a type outside gguf_type_block() is an error naming the tensor and type.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);

  uint32_t version() const { return version_; }
  const std::string& path() const { return file_.path(); }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const GgufValue* find(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  std::optional<int64_t> get_int(const std::string& key) const;   // any integer type
  std::optional<double> get_float(const std::string& key) const;  // float or integer
  std::optional<bool> get_bool(const std::string& key) const;
  // Typed array getters; nullopt if missing or of another element type.
  std::optional<std::vector<std::string>> get_string_array(const std::string& key) const;
  std::optional<std::vector<double>> get_float_array(const std::string& key) const;
  std::optional<std::vector<int64_t>> get_int_array(const std::string& key) const;
  std::optional<std::vector<bool>> get_bool_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* tensor(const std::string& name) const;

 private:
  MappedFile file_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  friend class GgufParser;
};

// Writes GGUF v3. Metadata keys keep insertion order; tensor data is aligned to 32 bytes.
class GgufWriter {
 public:
  void add_string(const std::string& key, const std::string& value);
  void add_uint32(const std::string& key, uint32_t value);
  void add_int32(const std::string& key, int32_t value);
  void add_float32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_string_array(const std::string& key, const std::vector<std::string>& values);
  void add_float32_array(const std::string& key, const std::vector<float>& values);
  void add_int32_array(const std::string& key, const std::vector<int32_t>& values);
  void add_bool_array(const std::string& key, const std::vector<bool>& values);
  // shape in ggml order (innermost first); bytes must match the type's size for that shape.
  void add_tensor(const std::string& name, GgufType type, const std::vector<int64_t>& shape,
                  std::vector<uint8_t> bytes);
  Status write(const std::string& path) const;

 private:
  void set_kv(const std::string& key, std::vector<uint8_t> encoded);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> kv_;  // key -> encoded type+value
  uint32_t alignment_ = 32;                                       // general.alignment when set
  struct Tensor {
    std::string name;
    GgufType type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Tensor> tensors_;
};

}  // namespace sluice
