// Safetensors writer: sorted-key JSON header padded with spaces to a multiple of 8, then tensor
// data back to back in header (name) order, as the reference implementation lays it out.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/safetensors.h"

namespace sluice {

Status write_safetensors(const std::string& path,
                         const std::vector<SafetensorsWriteTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  auto fail = [&](const std::string& what) {
    return Status::error("safetensors", path + ": " + what);
  };
  // Sorted by name: the data section follows header key order.
  std::map<std::string, const SafetensorsWriteTensor*> sorted;
  for (const SafetensorsWriteTensor& t : tensors) {
    const std::string who = "tensor '" + t.name + "'";
    if (t.name == "__metadata__") return fail("a tensor may not be named __metadata__");
    if (!sorted.emplace(t.name, &t).second) return fail("duplicate " + who);
    const int64_t elem_size = safetensors_dtype_size(t.dtype);
    if (elem_size == 0) return fail(who + " has unknown dtype '" + t.dtype + "'");
    uint64_t n = static_cast<uint64_t>(elem_size);
    for (int64_t d : t.shape) {
      if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) {
        return fail(who + " has an invalid shape");
      }
    }
    if (n != t.bytes.size()) {
      return fail(who + " has " + std::to_string(t.bytes.size()) + " bytes, expected " +
                  std::to_string(n));
    }
  }

  nlohmann::json header = nlohmann::json::object();  // std::map underneath: keys come out sorted
  uint64_t offset = 0;
  for (const auto& [name, t] : sorted) {
    header[name] = {{"dtype", t->dtype},
                    {"shape", t->shape},
                    {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return fail(std::string("cannot create: ") + std::strerror(errno));
  const uint64_t header_len = text.size();
  bool ok = std::fwrite(&header_len, 8, 1, f.get()) == 1 &&
            std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  for (auto it = sorted.begin(); ok && it != sorted.end(); ++it) {
    const std::vector<uint8_t>& b = it->second->bytes;
    ok = b.empty() || std::fwrite(b.data(), 1, b.size(), f.get()) == b.size();
  }
  if (!ok || std::fclose(f.release()) != 0) {
    return fail(std::string("write failed: ") + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace sluice
