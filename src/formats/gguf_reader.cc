// GGUF v2/v3 reader. Every read is bounds-checked against the mapping; tensor data is not copied.
//
//   header:  magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x:  string key | u32 value type | value
//   n_tensors x: string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset
//   padding to general.alignment, then the data section (offsets are relative to its start)
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "formats/byte_reader.h"
#include "formats/gguf.h"

namespace sluice {
namespace {

using namespace gguf_value;

constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;
// Smallest encodings, used to reject counts the remaining bytes could never hold.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim, type, offset

// Encoded size of one array element of `type`, or the smallest possible for variable sizes.
uint64_t min_value_bytes(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    case kString:
      return 8;
    case kArray:
      return 12;
    default:
      return 0;
  }
}

std::optional<int64_t> as_int(const GgufValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value.v)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&value.v)) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(*u);
    }
  }
  return std::nullopt;
}

std::optional<double> as_float(const GgufValue& value) {
  if (const auto* d = std::get_if<double>(&value.v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&value.v)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<uint64_t>(&value.v)) return static_cast<double>(*u);
  return std::nullopt;
}

}  // namespace

class GgufParser {
 public:
  GgufParser(GgufFile* file) : f_(file), r_(file->file_.data(), file->file_.size()) {}

  Status parse() {
    const size_t size = f_->file_.size();
    const uint8_t* data = f_->file_.data();
    if (size < 4) return fail("file too small (" + std::to_string(size) + " bytes) to be GGUF");
    if (std::memcmp(data, "GGUF", 4) != 0) return fail("not a GGUF file (bad magic)");
    uint32_t magic = 0;
    r_.read(&magic);
    uint32_t version = 0;
    if (!r_.read(&version)) return fail("truncated file: header ends before the version");
    if (version != 2 && version != 3) {
      return fail("unsupported GGUF version " + std::to_string(version) + " (only 2 and 3)");
    }
    f_->version_ = version;
    uint64_t n_tensors = 0, n_kv = 0;
    if (!r_.read(&n_tensors) || !r_.read(&n_kv)) return fail("truncated file: header is cut off");
    if (n_tensors > r_.remaining() / kMinTensorInfoBytes) {
      return fail("tensor count " + std::to_string(n_tensors) +
                  " is larger than the file could hold (corrupt header?)");
    }
    if (n_kv > r_.remaining() / kMinKvBytes) {
      return fail("metadata count " + std::to_string(n_kv) +
                  " is larger than the file could hold (corrupt header?)");
    }

    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      SLUICE_RETURN_IF_ERROR(read_string(&key, "metadata key #" + std::to_string(i)));
      uint32_t type = 0;
      if (!r_.read(&type)) return truncated("the value type of metadata key '" + key + "'");
      GgufValue value;
      SLUICE_RETURN_IF_ERROR(read_value(key, type, 0, &value));
      if (!f_->metadata_.emplace(key, std::move(value)).second) {
        return fail("duplicate metadata key '" + key + "'");
      }
    }

    uint64_t alignment = kDefaultAlignment;
    if (const GgufValue* a = f_->find("general.alignment")) {
      const std::optional<int64_t> u = as_int(*a);
      if (!u || *u <= 0 || (*u & (*u - 1)) != 0 || *u > (1 << 30)) {
        return fail("general.alignment must be a positive power of two");
      }
      alignment = static_cast<uint64_t>(*u);
    }

    f_->tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
      GgufTensorInfo t;
      SLUICE_RETURN_IF_ERROR(read_tensor_info(i, &t));
      if (!f_->tensor_index_.emplace(t.name, f_->tensors_.size()).second) {
        return fail("duplicate tensor name '" + t.name + "'");
      }
      f_->tensors_.push_back(std::move(t));
    }

    // The data section starts at the next multiple of the alignment after the tensor infos.
    const uint64_t infos_end = r_.pos();
    const uint64_t data_start = (infos_end + alignment - 1) / alignment * alignment;
    for (GgufTensorInfo& t : f_->tensors_) {
      if (t.offset % alignment != 0) {
        return fail("tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                    " is not a multiple of the alignment " + std::to_string(alignment));
      }
      if (data_start > size || t.offset > size - data_start ||
          t.nbytes > size - data_start - t.offset) {
        return fail("tensor '" + t.name + "' data extends past end of file (truncated?)");
      }
      t.data = f_->file_.data() + data_start + t.offset;
    }
    return Status::ok();
  }

 private:
  Status fail(const std::string& what) const {
    return Status::error("gguf", f_->file_.path() + ": " + what);
  }
  Status truncated(const std::string& what) const {
    return fail("truncated file: end of file while reading " + what + " at offset " +
                std::to_string(r_.pos()));
  }

  Status read_string(std::string* out, const std::string& what) {
    uint64_t length = 0;
    if (!r_.read(&length)) return truncated("the length of " + what);
    if (length > r_.remaining()) {
      return fail("truncated file: " + what + " has length " + std::to_string(length) +
                  " at offset " + std::to_string(r_.pos() - 8) + ", past end of file");
    }
    r_.read_string(length, out);
    return Status::ok();
  }

  template <typename T>
  Status read_scalar(T* out, const std::string& key) {
    if (!r_.read(out)) return truncated("the value of metadata key '" + key + "'");
    return Status::ok();
  }

  template <typename T, typename Stored>
  Status read_as(const std::string& key, GgufValue* out) {
    T x{};
    SLUICE_RETURN_IF_ERROR(read_scalar(&x, key));
    out->v = static_cast<Stored>(x);
    return Status::ok();
  }

  Status read_value(const std::string& key, uint32_t type, int depth, GgufValue* out) {
    switch (type) {
      case kU8:
        return read_as<uint8_t, int64_t>(key, out);
      case kI8:
        return read_as<int8_t, int64_t>(key, out);
      case kU16:
        return read_as<uint16_t, int64_t>(key, out);
      case kI16:
        return read_as<int16_t, int64_t>(key, out);
      case kU32:
        return read_as<uint32_t, int64_t>(key, out);
      case kI32:
        return read_as<int32_t, int64_t>(key, out);
      case kU64:
        return read_as<uint64_t, uint64_t>(key, out);
      case kI64:
        return read_as<int64_t, int64_t>(key, out);
      case kF32:
        return read_as<float, double>(key, out);
      case kF64:
        return read_as<double, double>(key, out);
      case kBool: {
        uint8_t b = 0;
        SLUICE_RETURN_IF_ERROR(read_scalar(&b, key));
        if (b > 1) return fail("metadata key '" + key + "' has invalid bool value");
        out->v = b != 0;
        return Status::ok();
      }
      case kString: {
        std::string s;
        SLUICE_RETURN_IF_ERROR(read_string(&s, "the value of metadata key '" + key + "'"));
        out->v = std::move(s);
        return Status::ok();
      }
      case kArray: {
        if (depth >= kMaxArrayDepth)
          return fail("metadata key '" + key + "' nests arrays too deep");
        uint32_t elem_type = 0;
        uint64_t count = 0;
        if (!r_.read(&elem_type) || !r_.read(&count)) {
          return truncated("the array header of metadata key '" + key + "'");
        }
        const uint64_t min_bytes = min_value_bytes(elem_type);
        if (min_bytes == 0) {
          return fail("metadata key '" + key + "' has invalid array element type " +
                      std::to_string(elem_type));
        }
        if (count > r_.remaining() / min_bytes) {
          return fail("metadata key '" + key + "' has array count " + std::to_string(count) +
                      ", larger than the file could hold (truncated or corrupt)");
        }
        GgufArray arr(static_cast<size_t>(count));
        for (GgufValue& e : arr) {
          SLUICE_RETURN_IF_ERROR(read_value(key, elem_type, depth + 1, &e));
        }
        out->v = std::move(arr);
        return Status::ok();
      }
      default:
        return fail("metadata key '" + key + "' has invalid value type " + std::to_string(type));
    }
  }

  Status read_tensor_info(uint64_t index, GgufTensorInfo* t) {
    SLUICE_RETURN_IF_ERROR(read_string(&t->name, "the name of tensor #" + std::to_string(index)));
    const std::string who = "tensor '" + t->name + "'";
    uint32_t n_dims = 0;
    if (!r_.read(&n_dims)) return truncated("the info of " + who);
    if (n_dims == 0 || n_dims > kMaxDims) {
      return fail(who + " has " + std::to_string(n_dims) + " dimensions (must be 1 to 4)");
    }
    int64_t num_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      if (!r_.read(&ne)) return truncated("the shape of " + who);
      const auto dim = static_cast<int64_t>(ne);  // values past INT64_MAX read as negative
      if (dim <= 0) {
        return fail(who + " has dimension " + std::to_string(d) + " = " + std::to_string(dim) +
                    " (must be positive)");
      }
      if (__builtin_mul_overflow(num_elements, dim, &num_elements)) {
        return fail(who + " element count overflows");
      }
      t->shape.push_back(dim);
    }
    uint32_t type = 0;
    if (!r_.read(&type) || !r_.read(&t->offset)) return truncated("the info of " + who);
    t->type = static_cast<GgufType>(type);
    int64_t block_elems = 0, block_bytes = 0;
    if (!gguf_type_block(t->type, &block_elems, &block_bytes)) {
      return fail(who + " has unsupported type " + gguf_type_name(t->type));
    }
    if (t->shape[0] % block_elems != 0) {
      return fail(who + " row size " + std::to_string(t->shape[0]) + " is not a multiple of the " +
                  gguf_type_name(t->type) + " block size " + std::to_string(block_elems));
    }
    int64_t nbytes = 0;
    if (__builtin_mul_overflow(num_elements / block_elems, block_bytes, &nbytes)) {
      return fail(who + " byte size overflows");
    }
    t->nbytes = static_cast<size_t>(nbytes);
    t->data = nullptr;
    return Status::ok();
  }

  GgufFile* f_;
  ByteReader r_;
};

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return Status::error("gguf", path + ": cannot open: " + mapped.error());
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->file_ = std::move(mapped.value());
  GgufParser parser(file.get());
  SLUICE_RETURN_IF_ERROR(parser.parse());
  return file;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

template <typename T, typename Convert>
std::optional<std::vector<T>> as_array(const GgufValue* value, Convert convert) {
  if (!value) return std::nullopt;
  const auto* arr = std::get_if<GgufArray>(&value->v);
  if (!arr) return std::nullopt;
  std::vector<T> out;
  out.reserve(arr->size());
  for (const GgufValue& e : *arr) {
    std::optional<T> x = convert(e);
    if (!x) return std::nullopt;
    out.push_back(std::move(*x));
  }
  return out;
}

}  // namespace

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&value->v)) return *s;
  return std::nullopt;
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* value = find(key);
  return value ? as_int(*value) : std::nullopt;
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* value = find(key);
  return value ? as_float(*value) : std::nullopt;
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&value->v)) return *b;
  return std::nullopt;
}

std::optional<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  return as_array<std::string>(find(key), [](const GgufValue& e) -> std::optional<std::string> {
    if (const auto* s = std::get_if<std::string>(&e.v)) return *s;
    return std::nullopt;
  });
}

std::optional<std::vector<double>> GgufFile::get_float_array(const std::string& key) const {
  return as_array<double>(find(key), as_float);
}

std::optional<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  return as_array<int64_t>(find(key), as_int);
}

std::optional<std::vector<bool>> GgufFile::get_bool_array(const std::string& key) const {
  return as_array<bool>(find(key), [](const GgufValue& e) -> std::optional<bool> {
    if (const auto* b = std::get_if<bool>(&e.v)) return *b;
    return std::nullopt;
  });
}

}  // namespace sluice
