#pragma once
// The weights only hybrid models have (Qwen3.5, Qwen3-Next): a gated delta-net layer's, the
// gated attention's split q projection, and the shared expert.
#include <string>

#include "common/status.h"
#include "model/load/weight_source.h"
#include "model/model.h"

namespace sluice {

// p: the layer's canonical prefix ("model.layers.3."); gguf: llama.cpp's layout (A stored as
// -exp(A_log), Qwen3-Next's q/k/v and z already split).
Status load_delta_net(const WeightSource& src, const ModelConfig& c, const std::string& p,
                      bool gguf, LayerWeights& L);
// q_proj [heads * 2 * hd, hidden] holds each head's query rows then its gate rows: L.wq, L.wq_gate.
Status load_gated_query(const WeightSource& src, const ModelConfig& c, const std::string& p,
                        LayerWeights& L);
Status load_shared_expert(const WeightSource& src, const ModelConfig& c, const std::string& p,
                          LayerWeights& L);

}  // namespace sluice
