#include "model/decoder_pooling.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kGgufPoolingLast = 3;  // llama.cpp's LLAMA_POOLING_TYPE_LAST

Result<nlohmann::json> read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Status::error("pooling", "cannot read " + path.string());
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("pooling", path.string() + ": not valid JSON");
  return j;
}

Status read_modules(const fs::path& dir, DecoderPooling& p) {
  SLUICE_ASSIGN_OR_RETURN(nlohmann::json mods, read_json_file(dir / "modules.json"));
  if (!mods.is_array())
    return Status::error("pooling", (dir / "modules.json").string() + ": not a list");
  p.normalize = false;
  for (const auto& m : mods) {
    const std::string type = m.is_object() ? m.value("type", "") : "";
    const std::string kind = type.substr(type.rfind('.') + 1);
    if (kind == "Transformer") continue;
    if (kind == "Normalize") {
      p.normalize = true;
    } else if (kind == "Pooling") {
      const fs::path path = dir / m.value("path", "") / "config.json";
      SLUICE_ASSIGN_OR_RETURN(nlohmann::json pc, read_json_file(path));
      for (const char* other :
           {"pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
            "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens"})
        if (pc.value(other, false))
          return Status::error("pooling", path.string() + ": " + other +
                                              " is not supported for decoders (last-token only)");
      if (!pc.value("pooling_mode_lasttoken", false))
        return Status::error("pooling", path.string() + ": no pooling_mode_lasttoken");
      p.declared = true;
    } else {
      return Status::error("pooling", (dir / "modules.json").string() + ": module '" + type +
                                          "' is not supported (Transformer, Pooling, Normalize)");
    }
  }
  return Status::ok();
}

}  // namespace

std::string DecoderPooling::check_dimensions(int64_t dimensions, int64_t hidden) const {
  if (!matryoshka)
    return "its embeddings have a fixed " + std::to_string(hidden) +
           " dimensions (it was not trained to be truncated)";
  if (dimensions < 1 || dimensions > hidden)
    return "dimensions must be in [1, " + std::to_string(hidden) + "], got " +
           std::to_string(dimensions);
  if (matryoshka_dimensions.empty()) return "";
  std::string sizes;
  for (int64_t d : matryoshka_dimensions) {
    if (d == dimensions) return "";
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(d);
  }
  return "dimensions must be one of the model's matryoshka_dimensions (" + sizes + "), got " +
         std::to_string(dimensions);
}

Result<DecoderPooling> read_decoder_pooling(const std::string& model_path) {
  DecoderPooling p;
  std::error_code ec;
  if (fs::is_regular_file(model_path, ec) && fs::path(model_path).extension() == ".gguf") {
    SLUICE_ASSIGN_OR_RETURN(auto gguf, GgufFile::open(model_path));
    const std::string arch = gguf->get_string("general.architecture").value_or("");
    p.declared = gguf->get_int(arch + ".pooling_type") == kGgufPoolingLast;
    return p;
  }
  if (!fs::is_directory(model_path, ec)) return p;
  const fs::path dir(model_path);
  if (fs::exists(dir / "modules.json")) SLUICE_RETURN_IF_ERROR(read_modules(dir, p));
  if (fs::exists(dir / "config.json")) {
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json cfg, read_json_file(dir / "config.json"));
    if (auto it = cfg.find("matryoshka_dimensions"); it != cfg.end() && it->is_array()) {
      for (const auto& d : *it)
        if (d.is_number_integer()) p.matryoshka_dimensions.push_back(d.get<int64_t>());
      p.matryoshka = !p.matryoshka_dimensions.empty();
    }
    if (auto it = cfg.find("is_matryoshka"); it != cfg.end() && it->is_boolean())
      p.matryoshka = p.matryoshka || it->get<bool>();
  }
  return p;
}

}  // namespace sluice
