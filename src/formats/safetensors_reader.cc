// Safetensors reader: one file, or a model directory (index + shards, or every *.safetensors).
//
//   u64 N (little-endian) | N bytes of JSON header | data section
//   header: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//            "__metadata__": {...}}   offsets are relative to the start of the data section
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "formats/safetensors.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Status fail(const std::string& path, const std::string& what) {
  return Status::error("safetensors", path + ": " + what);
}

// A non-negative integer from the header (nlohmann stores those as unsigned).
bool get_u64(const json& j, uint64_t* out) {
  if (!j.is_number_unsigned()) return false;
  *out = j.get<uint64_t>();
  return true;
}

}  // namespace

int64_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, int64_t> kSizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2},    {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},      {"U16", 2},
      {"U32", 4}, {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
  };
  auto it = kSizes.find(dtype);
  return it == kSizes.end() ? 0 : it->second;
}

Result<std::unique_ptr<SafetensorsModel>> SafetensorsModel::open_file(const std::string& path) {
  std::unique_ptr<SafetensorsModel> model(new SafetensorsModel());
  SLUICE_RETURN_IF_ERROR(model->add_file(path));
  return model;
}

Result<std::unique_ptr<SafetensorsModel>> SafetensorsModel::open_dir(const std::string& dir) {
  std::unique_ptr<SafetensorsModel> model(new SafetensorsModel());
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail(dir, "not a directory");

  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index_path, ec)) {
    const std::string ip = index_path.string();
    std::ifstream in(index_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return fail(ip, "cannot read");
    const json index = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    if (index.is_discarded()) return fail(ip, "invalid JSON");
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      return fail(ip, "missing \"weight_map\" object");
    }
    // Shards in first-mention order would depend on JSON key order; sorted is deterministic.
    std::set<std::string> shards;
    for (const auto& [name, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) return fail(ip, "weight_map entry '" + name + "' is not a string");
      shards.insert(shard.get<std::string>());
    }
    for (const std::string& shard : shards) {
      const std::string shard_path = (fs::path(dir) / shard).string();
      if (!fs::exists(shard_path, ec)) return fail(ip, "shard '" + shard + "' is missing");
      SLUICE_RETURN_IF_ERROR(model->add_file(shard_path));
    }
    for (const auto& [name, shard] : index["weight_map"].items()) {
      const std::string shard_path = (fs::path(dir) / shard.get<std::string>()).string();
      auto it = model->tensor_file_.find(name);
      if (it == model->tensor_file_.end() || it->second != shard_path) {
        return fail(ip, "tensor '" + name + "' listed in the index is missing from shard '" +
                            shard.get<std::string>() + "'");
      }
    }
    return model;
  }

  const fs::path single = fs::path(dir) / "model.safetensors";
  if (fs::exists(single, ec)) {
    SLUICE_RETURN_IF_ERROR(model->add_file(single.string()));
    return model;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
  }
  if (ec) return fail(dir, "cannot list directory: " + ec.message());
  if (files.empty()) return fail(dir, "no .safetensors files");
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) SLUICE_RETURN_IF_ERROR(model->add_file(f));
  return model;
}

Status SafetensorsModel::add_file(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return fail(path, "cannot open: " + mapped.error());
  const MappedFile& file = mapped.value();
  const uint8_t* base = file.data();
  const size_t size = file.size();
  if (size < 8) return fail(path, "file too small (" + std::to_string(size) + " bytes)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);  // little-endian host (see byte_reader.h)
  if (header_len > size - 8) {
    return fail(path, "header length " + std::to_string(header_len) +
                          " extends past end of file (not safetensors, or truncated)");
  }
  const char* header_begin = reinterpret_cast<const char*>(base + 8);
  const json header =
      json::parse(header_begin, header_begin + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return fail(path, "header is not valid JSON");
  if (!header.is_object()) return fail(path, "header is not a JSON object");

  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  std::vector<SafetensorsTensor> parsed;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string who = "tensor '" + name + "'";
    if (!info.is_object()) return fail(path, who + " entry is not an object");
    auto dtype_it = info.find("dtype");
    auto shape_it = info.find("shape");
    auto offsets_it = info.find("data_offsets");
    if (dtype_it == info.end() || !dtype_it->is_string()) {
      return fail(path, who + " has no \"dtype\" string");
    }
    if (shape_it == info.end() || !shape_it->is_array()) {
      return fail(path, who + " has no \"shape\" array");
    }
    if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      return fail(path, who + " has no \"data_offsets\" [begin, end] pair");
    }
    SafetensorsTensor t;
    t.name = name;
    t.dtype = dtype_it->get<std::string>();
    const int64_t elem_size = safetensors_dtype_size(t.dtype);
    if (elem_size == 0) return fail(path, who + " has unknown dtype '" + t.dtype + "'");
    uint64_t num_elements = 1;
    for (const json& d : *shape_it) {
      uint64_t dim = 0;
      if (!get_u64(d, &dim) || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail(path, who + " has an invalid shape entry " + d.dump());
      }
      if (__builtin_mul_overflow(num_elements, dim, &num_elements)) {
        return fail(path, who + " element count overflows");
      }
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t expected = 0, begin = 0, end = 0;
    if (__builtin_mul_overflow(num_elements, static_cast<uint64_t>(elem_size), &expected)) {
      return fail(path, who + " byte size overflows");
    }
    if (!get_u64((*offsets_it)[0], &begin) || !get_u64((*offsets_it)[1], &end) || end < begin) {
      return fail(path, who + " has invalid data_offsets " + offsets_it->dump());
    }
    if (end > data_size) {
      return fail(path, who + " data_offsets " + offsets_it->dump() +
                            " extend past the data section (" + std::to_string(data_size) +
                            " bytes; truncated?)");
    }
    if (end - begin != expected) {
      return fail(path, who + " has " + std::to_string(end - begin) + " bytes but " + t.dtype +
                            " " + shape_it->dump() + " needs " + std::to_string(expected));
    }
    t.data = data + begin;
    t.nbytes = static_cast<size_t>(expected);
    parsed.push_back(std::move(t));
  }

  for (const SafetensorsTensor& t : parsed) {
    if (tensors_.count(t.name)) {
      return fail(path, "tensor '" + t.name + "' also appears in " + tensor_file_[t.name]);
    }
  }
  for (SafetensorsTensor& t : parsed) {
    tensor_file_[t.name] = path;
    std::string name = t.name;
    tensors_.emplace(std::move(name), std::move(t));
  }
  files_.push_back(std::move(mapped.value()));  // the mapping (and data pointers) stay put
  return Status::ok();
}

const SafetensorsTensor* SafetensorsModel::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::string> SafetensorsModel::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

}  // namespace sluice
