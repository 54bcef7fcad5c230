#pragma once
// Encoder architectures (embeddings), one file each like the decoders (bert.cc): the tensor
// names they load and the forward pass they compose from model/blocks/.
#include <string>
#include <vector>

#include "common/status.h"
#include "model/encoder_context.h"

namespace sluice {

class WeightSource;

struct EncoderArchSpec {
  std::string name;                           // "bert"
  std::vector<std::string> hf_architectures;  // config.json "architectures" values
  std::vector<std::string> hf_model_types;    // config.json "model_type" values
  // Reads the weights of config c from src into w.
  Status (*load)(const WeightSource& src, const EncoderConfig& c, EncoderWeights& w) = nullptr;
  EncoderForwardFn forward = nullptr;
};

const EncoderArchSpec& bert_arch();

// nullptr when the config names no encoder architecture.
const EncoderArchSpec* find_encoder_arch(const std::string& architecture,
                                         const std::string& model_type);

}  // namespace sluice
