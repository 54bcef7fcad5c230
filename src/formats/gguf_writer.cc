// GGUF v3 writer: header, metadata in insertion order, tensor infos, then tensor data, each tensor
// aligned to general.alignment (32 unless set). Layout matches what gguf-py and llama.cpp write.
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "formats/gguf.h"

namespace sluice {
namespace {

using namespace gguf_value;

template <typename T>
void put(std::vector<uint8_t>* out, T value) {
  const size_t at = out->size();
  out->resize(at + sizeof(T));
  std::memcpy(out->data() + at, &value, sizeof(T));
}

void put_string(std::vector<uint8_t>* out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out->insert(out->end(), s.begin(), s.end());
}

template <typename T>
std::vector<uint8_t> encode_scalar(uint32_t type, T value) {
  std::vector<uint8_t> out;
  put<uint32_t>(&out, type);
  put<T>(&out, value);
  return out;
}

template <typename T>
std::vector<uint8_t> encode_array(uint32_t elem_type, const std::vector<T>& values) {
  std::vector<uint8_t> out;
  put<uint32_t>(&out, kArray);
  put<uint32_t>(&out, elem_type);
  put<uint64_t>(&out, values.size());
  for (const T& v : values) {
    if constexpr (std::is_same_v<T, std::string>) {
      put_string(&out, v);
    } else {
      put<T>(&out, v);
    }
  }
  return out;
}

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

}  // namespace

void GgufWriter::set_kv(const std::string& key, std::vector<uint8_t> encoded) {
  for (auto& [k, v] : kv_) {
    if (k == key) {  // a repeated key replaces the value in place
      v = std::move(encoded);
      return;
    }
  }
  kv_.emplace_back(key, std::move(encoded));
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  std::vector<uint8_t> out;
  put<uint32_t>(&out, kString);
  put_string(&out, value);
  set_kv(key, std::move(out));
}
void GgufWriter::add_uint32(const std::string& key, uint32_t value) {
  if (key == "general.alignment") alignment_ = value;
  set_kv(key, encode_scalar<uint32_t>(kU32, value));
}
void GgufWriter::add_int32(const std::string& key, int32_t value) {
  set_kv(key, encode_scalar<int32_t>(kI32, value));
}
void GgufWriter::add_float32(const std::string& key, float value) {
  set_kv(key, encode_scalar<float>(kF32, value));
}
void GgufWriter::add_bool(const std::string& key, bool value) {
  set_kv(key, encode_scalar<uint8_t>(kBool, value ? 1 : 0));
}
void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& values) {
  set_kv(key, encode_array(kString, values));
}
void GgufWriter::add_float32_array(const std::string& key, const std::vector<float>& values) {
  set_kv(key, encode_array(kF32, values));
}
void GgufWriter::add_int32_array(const std::string& key, const std::vector<int32_t>& values) {
  set_kv(key, encode_array(kI32, values));
}
void GgufWriter::add_bool_array(const std::string& key, const std::vector<bool>& values) {
  set_kv(key, encode_array(kBool, std::vector<uint8_t>(values.begin(), values.end())));
}

void GgufWriter::add_tensor(const std::string& name, GgufType type,
                            const std::vector<int64_t>& shape, std::vector<uint8_t> bytes) {
  tensors_.push_back(Tensor{name, type, shape, std::move(bytes)});
}

Status GgufWriter::write(const std::string& path) const {
  auto fail = [&](const std::string& what) { return Status::error("gguf", path + ": " + what); };
  const uint64_t alignment = alignment_;
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return fail("general.alignment must be a power of two");
  }

  // Validate tensors and lay out the data section.
  std::set<std::string> names;
  std::vector<uint64_t> offsets;
  uint64_t data_size = 0;
  for (const Tensor& t : tensors_) {
    const std::string who = "tensor '" + t.name + "'";
    if (!names.insert(t.name).second) return fail("duplicate " + who);
    if (t.name.size() > 63) return fail(who + " name is longer than 63 bytes (llama.cpp's limit)");
    int64_t block_elems = 0, block_bytes = 0;
    if (!gguf_type_block(t.type, &block_elems, &block_bytes)) {
      return fail(who + " has unsupported type " + gguf_type_name(t.type));
    }
    if (t.shape.empty() || t.shape.size() > 4) return fail(who + " must have 1 to 4 dimensions");
    int64_t n = 1;
    for (int64_t d : t.shape) {
      if (d <= 0 || __builtin_mul_overflow(n, d, &n)) return fail(who + " has an invalid shape");
    }
    if (t.shape[0] % block_elems != 0) {
      return fail(who + " row size is not a multiple of the block size");
    }
    const uint64_t nbytes = static_cast<uint64_t>(n / block_elems * block_bytes);
    if (t.bytes.size() != nbytes) {
      return fail(who + " has " + std::to_string(t.bytes.size()) + " bytes, expected " +
                  std::to_string(nbytes));
    }
    offsets.push_back(data_size);
    data_size = align_up(data_size + nbytes, alignment);
  }

  std::vector<uint8_t> head;
  head.insert(head.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(&head, 3);
  put<uint64_t>(&head, tensors_.size());
  put<uint64_t>(&head, kv_.size());
  for (const auto& [key, value] : kv_) {
    put_string(&head, key);
    head.insert(head.end(), value.begin(), value.end());
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    put_string(&head, t.name);
    put<uint32_t>(&head, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) put<uint64_t>(&head, static_cast<uint64_t>(d));
    put<uint32_t>(&head, static_cast<uint32_t>(t.type));
    put<uint64_t>(&head, offsets[i]);
  }
  head.resize(align_up(head.size(), alignment), 0);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return fail(std::string("cannot create: ") + std::strerror(errno));
  bool ok = std::fwrite(head.data(), 1, head.size(), f.get()) == head.size();
  static const uint8_t kZeros[256] = {};
  for (size_t i = 0; ok && i < tensors_.size(); ++i) {
    const std::vector<uint8_t>& b = tensors_[i].bytes;
    ok = std::fwrite(b.data(), 1, b.size(), f.get()) == b.size();
    const uint64_t pad = align_up(b.size(), alignment) - b.size();
    for (uint64_t left = pad; ok && left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, sizeof(kZeros)));
      ok = std::fwrite(kZeros, 1, n, f.get()) == n;
      left -= n;
    }
  }
  if (!ok || std::fclose(f.release()) != 0) {
    return fail(std::string("write failed: ") + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace sluice
