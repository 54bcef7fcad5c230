#include "convert/hf_vlm_layout.h"

#include <utility>
#include <vector>

#include "model/arch/arch_spec.h"
#include "model/vlm_config.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace {

// Where a family's published checkpoints keep the language model and its head.
struct TextPlacement {
  const char* prefix;       // replaces the canonical "model."
  const char* head_prefix;  // goes before the canonical "lm_head."
};

TextPlacement placement(const VlmFamily& f, bool mlx) {
  if (mlx || f.model_type == "gemma3") return {"language_model.model.", "language_model."};
  if (f.flat_text_config) return {"model.", ""};  // Qwen2/2.5-VL, next to "visual.*"
  return {"model.language_model.", ""};           // Qwen3-VL
}

// config.json keys of the multimodal token ids, and the tokens they name.
std::vector<std::pair<const char*, const char*>> token_keys(const VlmFamily& f) {
  if (f.model_type == "gemma3")
    return {{"boi_token_index", "<start_of_image>"},
            {"eoi_token_index", "<end_of_image>"},
            {"image_token_index", "<image_soft_token>"}};
  std::vector<std::pair<const char*, const char*>> k = {
      {"image_token_id", "<|image_pad|>"},
      {"video_token_id", "<|video_pad|>"},
      {"vision_start_token_id", "<|vision_start|>"},
      {"vision_end_token_id", "<|vision_end|>"}};
  if (f.flat_text_config) k.push_back({"vision_token_id", "<|vision_pad|>"});
  return k;
}

}  // namespace

const VlmFamily* vlm_family_of(const ArchSpec& arch) {
  const char* type = &arch == &gemma3_arch()       ? "gemma3"
                     : &arch == &qwen2vl_arch()    ? "qwen2_5_vl"
                     : &arch == &qwen3vl_arch()    ? "qwen3_vl"
                     : &arch == &qwen3vlmoe_arch() ? "qwen3_vl_moe"
                                                   : nullptr;
  return type ? find_vlm_family("", type) : nullptr;
}

std::string vlm_tensor_name(const VlmFamily& f, bool mlx, const std::string& canonical) {
  const TextPlacement p = placement(f, mlx);
  if (canonical.rfind("model.", 0) == 0) return p.prefix + canonical.substr(6);
  if (canonical.rfind("lm_head.", 0) == 0) return p.head_prefix + canonical;
  return canonical;
}

Result<nlohmann::json> hf_vlm_config_json(const ModelConfig& c, const VlmFamily& f,
                                          nlohmann::json text, const VlmConfigOptions& o) {
  for (const char* k : {"architectures", "quantization", "quantization_config", "torch_dtype"})
    text.erase(k);
  text["model_type"] = f.text_model_type;
  nlohmann::json j;
  if (f.flat_text_config) j = text;
  j["architectures"] = {f.architecture};
  j["model_type"] = f.model_type;
  if (!f.flat_text_config) j["text_config"] = text;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = o.torch_dtype;
  SLUICE_ASSIGN_OR_RETURN(auto tok, load_tokenizer_json(o.tokenizer_path));
  for (const auto& [key, token] : token_keys(f))
    if (auto id = tok->token_id(token)) j[key] = *id;
  if (f.model_type == "gemma3" && o.mm_tokens_per_image > 0)
    j["mm_tokens_per_image"] = o.mm_tokens_per_image;
  if (!o.quantization.is_null()) {  // mlx-vlm writes both
    j["quantization"] = o.quantization;
    j["quantization_config"] = o.quantization;
  }
  return j;
}

}  // namespace sluice
