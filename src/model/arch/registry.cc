#include <algorithm>

#include "model/arch/arch_spec.h"

namespace sluice {

const std::vector<const ArchSpec*>& all_archs() {
  static const std::vector<const ArchSpec*> archs = {
      &llama_arch(),     &qwen2_arch(),   &qwen2vl_arch(),    &qwen3_arch(),
      &qwen3_moe_arch(), &qwen3vl_arch(), &qwen3vlmoe_arch(), &gemma3_arch(),
      &gpt_oss_arch(),   &qwen35_arch(),  &qwen35moe_arch(),  &qwen3next_arch()};
  return archs;
}

static bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const ArchSpec* find_arch_by_hf(const std::string& architecture, const std::string& model_type) {
  for (const ArchSpec* a : all_archs())
    if (contains(a->hf_architectures, architecture)) return a;
  for (const ArchSpec* a : all_archs())
    if (contains(a->hf_model_types, model_type)) return a;
  return nullptr;
}

const ArchSpec* find_arch_by_gguf(const std::string& gguf_arch) {
  for (const ArchSpec* a : all_archs())
    if (contains(a->gguf_architectures, gguf_arch)) return a;
  return nullptr;
}

const ArchSpec* find_arch_by_name(const std::string& name) {
  for (const ArchSpec* a : all_archs())
    if (a->name == name) return a;
  return nullptr;
}

}  // namespace sluice
