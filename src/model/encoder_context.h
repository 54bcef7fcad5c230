#pragma once
// What an encoder architecture's forward works with for one step: the backend, the config, the
// placed weights and the step's buffers (a flattened batch of whole sequences, no KV cache).
#include <cstdint>

#include "backend/backend.h"
#include "model/encoder_model.h"

namespace sluice {

struct EncoderStepBuffers {
  int64_t n = 0;                       // tokens
  SequenceBatch seqs;                  // the sequences' rows
  const int32_t* tokens = nullptr;     // [n]
  const int32_t* positions = nullptr;  // [n] position within the sequence
  const int32_t* type_ids = nullptr;   // [n]
  float* x = nullptr;                  // [n, hidden] hidden states
  float* h = nullptr;                  // [n, hidden] scratch
  float *q = nullptr, *k = nullptr, *v = nullptr, *attn = nullptr;  // [n, hidden] each
  float* inter = nullptr;                                           // [n, intermediate]
  float* pooled = nullptr;                                          // [num_seqs, hidden]
};

struct EncoderContext {
  Backend& be;
  const EncoderConfig& config;
  const EncoderWeights& w;  // placed on be
  const EncoderStepBuffers& s;
};

// An encoder's forward: s.pooled = one (normalized where configured) vector per sequence.
using EncoderForwardFn = void (*)(const EncoderContext&);

}  // namespace sluice
