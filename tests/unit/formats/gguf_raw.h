#pragma once
// Builds GGUF bytes by hand, for value types and versions our writer does not produce.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sluice::testing {

class RawGguf {
 public:
  template <typename T>
  void put(T value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    put<uint32_t>(0x46554747u);  // "GGUF"
    put(version);
    put(n_tensors);
    put(n_kv);
  }
  // key + value type; the caller then puts the value.
  void key(const std::string& k, uint32_t type) {
    put_string(k);
    put(type);
  }
  void tensor_info(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type,
                   uint64_t offset) {
    put_string(name);
    put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) put(d);
    put(type);
    put(offset);
  }
  void pad_to(size_t alignment) {
    bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0);
  }
  void append(const std::vector<uint8_t>& b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace sluice::testing
