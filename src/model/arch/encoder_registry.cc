// The encoder architectures (one file each) and the lookup by config.json.
#include "model/arch/encoder_arch.h"

namespace sluice {

const EncoderArchSpec* find_encoder_arch(const std::string& architecture,
                                         const std::string& model_type) {
  static const std::vector<const EncoderArchSpec*> archs = {&bert_arch()};
  for (const EncoderArchSpec* a : archs)
    for (const std::string& s : a->hf_architectures)
      if (s == architecture) return a;
  for (const EncoderArchSpec* a : archs)
    for (const std::string& s : a->hf_model_types)
      if (s == model_type) return a;
  return nullptr;
}

}  // namespace sluice
