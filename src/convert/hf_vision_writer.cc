// write_hf_vision_tower: make-model's vision towers as a Hugging Face / mlx-vlm checkpoint, the
// mmproj's values placed by the reader's own name table (model/vision/hf_vision_names.h).
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/half.h"
#include "common/json_file.h"
#include "convert/synthetic_vision.h"
#include "convert/synthetic_vision_tensors.h"
#include "formats/safetensors.h"
#include "model/vision/hf_vision_names.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Status writer_fail(const std::string& dir, const std::string& what) {
  return Status::error("make-model", dir + ": " + what);
}

Result<json> read_dir_json(const fs::path& path, const std::string& dir) {
  return read_json_object(path.string(), "make-model", dir);
}

Status write_dir_json(const fs::path& path, const json& j, const std::string& dir) {
  std::ofstream out(path, std::ios::binary);
  out << j.dump(2) << "\n";
  if (!out) return writer_fail(dir, "cannot write " + path.filename().string());
  return Status::ok();
}

int64_t tensor_elements(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::vector<uint8_t> encode_dtype(const std::vector<float>& v, const std::string& dtype) {
  const size_t elem = dtype == "F32" ? 4 : 2;
  std::vector<uint8_t> bytes(v.size() * elem);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == "F32") {
      std::memcpy(&bytes[i * 4], &v[i], 4);
    } else {
      const uint16_t h = dtype == "F16" ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
      std::memcpy(&bytes[i * 2], &h, 2);
    }
  }
  return bytes;
}

// Checkpoint tensors from the mmproj's values: each table entry's values placed in its
// checkpoint tensor (inverting the reader's layouts); every element written exactly once.
Result<std::vector<SafetensorsWriteTensor>> checkpoint_tensors(const VisionConfig& c,
                                                               const HfVisionWriteOptions& o,
                                                               const std::string& dir) {
  std::map<std::string, std::vector<float>> mmproj;
  synthetic_vision_tensors(c, GgufType::F32, o.seed,
                           [&](SyntheticVisionTensor t) { mmproj[t.name] = std::move(t.values); });
  struct Building {
    std::vector<int64_t> shape;  // as stored (MLX convolutions channels-last)
    std::vector<float> values;
    std::vector<uint8_t> written;
  };
  std::vector<std::string> order;
  std::map<std::string, Building> out;
  std::set<std::string> used;
  for (const HfVisionTensor& e : hf_vision_tensors(c)) {
    const std::string name = hf_write_prefix(c.projector, e.part, o.mlx) + e.name;
    auto src = mmproj.find(e.mmproj);
    if (src == mmproj.end()) return writer_fail(dir, "no values for '" + e.mmproj + "'");
    used.insert(e.mmproj);
    const bool conv = e.layout == HfLayout::kConv2d || e.layout == HfLayout::kConv3dFrame;
    auto [it, fresh] = out.try_emplace(name);
    Building& b = it->second;
    if (fresh) {
      order.push_back(name);
      b.shape = conv && o.mlx ? mlx_conv_shape(e.shape) : e.shape;
      b.values.assign(static_cast<size_t>(tensor_elements(e.shape)), 0.0f);
      b.written.assign(b.values.size(), 0);
    }
    const std::vector<float>& v = src->second;
    auto put = [&](int64_t at, float x) {
      b.values[static_cast<size_t>(at)] = x;
      ++b.written[static_cast<size_t>(at)];
    };
    if (conv) {
      const int64_t H = e.shape[0], P = e.shape.back();
      size_t i = 0;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t ch = 0; ch < 3; ++ch)
          for (int64_t y = 0; y < P; ++y)
            for (int64_t x = 0; x < P; ++x)
              put(conv_index(e.shape, o.mlx, h, ch, e.first, y, x), v[i++]);
    } else {
      const int64_t cols = e.shape.size() == 2 ? e.shape[1] : 1;
      const int64_t first = e.layout == HfLayout::kRows ? e.first * cols : 0;
      for (size_t i = 0; i < v.size(); ++i)
        put(first + static_cast<int64_t>(i), e.layout == HfLayout::kPlusOne ? v[i] - 1.0f : v[i]);
    }
  }
  for (const auto& [name, values] : mmproj)
    if (!used.count(name)) return writer_fail(dir, "no checkpoint tensor for '" + name + "'");
  std::vector<SafetensorsWriteTensor> tensors;
  for (const std::string& name : order) {
    Building& b = out[name];
    for (uint8_t n : b.written)
      if (n != 1)
        return writer_fail(dir, "'" + name + "' is not covered exactly once by the mmproj");
    tensors.push_back({name, o.float_dtype, b.shape, encode_dtype(b.values, o.float_dtype)});
  }
  return tensors;
}

// config.json's vision_config as transformers' configuration classes name the keys.
json vision_config_json(const VisionConfig& c) {
  if (c.projector == ProjectorType::kGemma3)
    return {{"model_type", "siglip_vision_model"},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_layers},
            {"num_attention_heads", c.num_heads},
            {"num_channels", 3},
            {"image_size", c.image_size},
            {"patch_size", c.patch_size},
            {"hidden_act", "gelu_pytorch_tanh"},
            {"layer_norm_eps", c.layer_norm_eps},
            {"vision_use_head", false}};
  json v = {{"depth", c.num_layers},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_heads", c.num_heads},
            {"in_channels", 3},
            {"out_hidden_size", c.projection_dim},
            {"patch_size", c.patch_size},
            {"spatial_merge_size", c.merge_size},
            {"temporal_patch_size", 2}};
  if (c.projector == ProjectorType::kQwen25VL) {
    std::vector<int64_t> full;
    for (int64_t i = 0; i < c.num_layers; ++i)
      if (!c.windowed_layer(i)) full.push_back(i);
    v["hidden_act"] = "silu";
    v["window_size"] = c.window_size;
    v["fullatt_block_indexes"] = full;
    v["tokens_per_second"] = 2;
  } else {
    v["hidden_act"] = "gelu_pytorch_tanh";
    v["num_position_embeddings"] = c.position_grid * c.position_grid;
    v["deepstack_visual_indexes"] = c.deepstack_layers;
  }
  return v;
}

// preprocessor_config.json as the family's image processor saves it.
json preprocessor_json(const VisionConfig& c) {
  json p = {
      {"do_convert_rgb", true},  {"do_normalize", true},          {"do_rescale", true},
      {"do_resize", true},       {"rescale_factor", 1.0 / 255.0}, {"image_mean", c.image_mean},
      {"image_std", c.image_std}};
  if (c.projector == ProjectorType::kGemma3) {
    p["image_processor_type"] = "Gemma3ImageProcessor";
    p["processor_class"] = "Gemma3Processor";
    p["resample"] = 2;  // BILINEAR
    p["size"] = {{"height", c.image_size}, {"width", c.image_size}};
    return p;
  }
  const bool v3 = c.projector == ProjectorType::kQwen3VL;
  p["image_processor_type"] = v3 ? "Qwen2VLImageProcessorFast" : "Qwen2VLImageProcessor";
  p["processor_class"] = v3 ? "Qwen3VLProcessor" : "Qwen2_5_VLProcessor";
  p["resample"] = 3;  // BICUBIC
  p["patch_size"] = c.patch_size;
  p["merge_size"] = c.merge_size;
  p["temporal_patch_size"] = 2;
  p["size"] = {{"shortest_edge", c.min_pixels}, {"longest_edge", c.max_pixels}};
  p["min_pixels"] = c.min_pixels;
  p["max_pixels"] = c.max_pixels;
  return p;
}

// config.json with the tower's keys; the text model's width must be the projector's.
Status merge_config(const VisionConfig& c, const std::string& dir) {
  const fs::path path = fs::path(dir) / "config.json";
  SLUICE_ASSIGN_OR_RETURN(json config, read_dir_json(path, dir));
  const bool gemma = c.projector == ProjectorType::kGemma3;
  const bool v3 = c.projector == ProjectorType::kQwen3VL;
  const std::vector<std::string> types = gemma ? std::vector<std::string>{"gemma3"}
                                         : v3 ? std::vector<std::string>{"qwen3_vl", "qwen3_vl_moe"}
                                              : std::vector<std::string>{"qwen2_5_vl"};
  if (!config.contains("model_type")) {
    config["model_type"] = types.front();
    config["architectures"] = {gemma ? "Gemma3ForConditionalGeneration"
                               : v3  ? "Qwen3VLForConditionalGeneration"
                                     : "Qwen2_5_VLForConditionalGeneration"};
  }
  const json type = config["model_type"];
  if (std::find(types.begin(), types.end(), type.is_string() ? type.get<std::string>() : "") ==
      types.end())
    return writer_fail(dir, "config.json's model_type " + type.dump() + " is not a " +
                                projector_type_name(c.projector) + " VLM's");
  // The text width: text_config's, or the top level's (Qwen2/2.5-VL of transformers 4.x);
  // Gemma 3's projector reads it, so a config without one gets it.
  const bool nested = config.contains("text_config") && config["text_config"].is_object();
  const json* width = nested && config["text_config"].contains("hidden_size")
                          ? &config["text_config"]["hidden_size"]
                      : !nested && config.contains("hidden_size") ? &config["hidden_size"]
                                                                  : nullptr;
  if (width && *width != c.projection_dim)
    return writer_fail(dir, "the text model's hidden_size " + width->dump() +
                                " is not the tower's projection width " +
                                std::to_string(c.projection_dim));
  if (!width && gemma) config["text_config"]["hidden_size"] = c.projection_dim;
  config["vision_config"] = vision_config_json(c);
  if (gemma) config["mm_tokens_per_image"] = c.tokens_per_image();
  return write_dir_json(path, config, dir);
}

// Where the tower's tensors go. Beside the text model's single file, that file becomes the first
// of two shards and the tower the second, with an index: transformers reads model.safetensors
// alone whenever it exists, and mlx-vlm reads model*.safetensors. Beside an index, the file it
// lists the tower in (a tower written again replaces it), else a new one; alone,
// model.safetensors.
struct TowerFile {
  std::string name;
  bool indexed = false;
};

Result<TowerFile> tower_file(const std::string& dir, const std::string& first_tensor) {
  const fs::path d(dir), index_path = d / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index_path, ec)) {
    SLUICE_ASSIGN_OR_RETURN(json index, read_dir_json(index_path, dir));
    const json& map = index.value("weight_map", json::object());
    if (auto it = map.find(first_tensor); it != map.end() && it->is_string())
      return TowerFile{it->get<std::string>(), true};
    return TowerFile{"model-vision.safetensors", true};
  }
  if (!fs::exists(d / "model.safetensors", ec)) return TowerFile{"model.safetensors", false};
  fs::rename(d / "model.safetensors", d / "model-00001-of-00002.safetensors", ec);
  if (ec) return writer_fail(dir, "cannot rename model.safetensors: " + ec.message());
  return TowerFile{"model-00002-of-00002.safetensors", true};
}

// model.safetensors.index.json: the text model's tensors where they are, the tower's in `file`.
Status update_index(const std::string& dir, const std::vector<SafetensorsWriteTensor>& vision,
                    const std::string& file) {
  const fs::path d(dir), index_path = d / "model.safetensors.index.json";
  std::error_code ec;
  json weight_map = json::object();
  if (fs::exists(index_path, ec)) {
    SLUICE_ASSIGN_OR_RETURN(json index, read_dir_json(index_path, dir));
    if (index.contains("weight_map") && index["weight_map"].is_object())
      for (const auto& [name, f] : index["weight_map"].items())
        if (f != file) weight_map[name] = f;
  } else {
    const std::string text = "model-00001-of-00002.safetensors";
    auto model = SafetensorsModel::open_file((d / text).string());
    if (!model) return writer_fail(dir, model.error());
    for (const std::string& name : (*model)->names()) weight_map[name] = text;
  }
  for (const SafetensorsWriteTensor& t : vision) weight_map[t.name] = file;
  int64_t total = 0;
  std::map<std::string, std::unique_ptr<SafetensorsModel>> files;
  for (const auto& [name, f] : weight_map.items()) {
    const std::string path = f.get<std::string>();
    if (!files.count(path)) {
      auto opened = SafetensorsModel::open_file((d / path).string());
      if (!opened) return writer_fail(dir, opened.error());
      files[path] = std::move(*opened);
    }
    if (const SafetensorsTensor* t = files[path]->find(name))
      total += static_cast<int64_t>(t->nbytes);
  }
  return write_dir_json(index_path,
                        {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}, dir);
}

}  // namespace

Status write_hf_vision_tower(const VisionConfig& c, const HfVisionWriteOptions& o,
                             const std::string& dir) {
  if (c.projector != ProjectorType::kGemma3 && c.projector != ProjectorType::kQwen25VL &&
      c.projector != ProjectorType::kQwen3VL)
    return writer_fail(dir,
                       std::string("no synthetic ") + projector_type_name(c.projector) + " tower");
  if (o.float_dtype != "F32" && o.float_dtype != "F16" && o.float_dtype != "BF16")
    return writer_fail(dir, "the tower's dtype must be F32, F16 or BF16, not " + o.float_dtype);
  SLUICE_ASSIGN_OR_RETURN(std::vector<SafetensorsWriteTensor> tensors,
                          checkpoint_tensors(c, o, dir));
  SLUICE_RETURN_IF_ERROR(merge_config(c, dir));
  const fs::path d(dir);
  SLUICE_ASSIGN_OR_RETURN(const TowerFile file, tower_file(dir, tensors.front().name));
  SLUICE_RETURN_IF_ERROR(
      write_safetensors((d / file.name).string(), tensors, {{"format", o.mlx ? "mlx" : "pt"}}));
  SLUICE_RETURN_IF_ERROR(write_dir_json(d / "preprocessor_config.json", preprocessor_json(c), dir));
  return file.indexed ? update_index(dir, tensors, file.name) : Status::ok();
}

}  // namespace sluice
