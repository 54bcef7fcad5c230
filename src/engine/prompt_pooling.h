#pragma once
// Prompt-only requests through the decoder Engine (PromptOutput): its scheduler batches them with
// everything else, and no KV is held after (full blocks stay in the prefix cache, so prompts that
// share a prefix, such as a reranker's instruction and query, compute it once). Two uses:
//   last-token embeddings (Qwen3-Embedding): final-norm hidden state of the last token, cut to
//     `dimensions` (Matryoshka) and L2-normalized;
//   yes/no relevance (Qwen3-Reranker): P(yes) = softmax(logit[yes], logit[no])[yes] at the last
//     position of a prompt that ends where the model answers "yes" or "no".
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/request_error.h"

namespace sluice {

// Submits every prompt before waiting on any, and returns their vectors in order. A refusal
// names `param` and the prompt ("input[2]: ..."); the prompts already submitted are aborted.
RequestResult<std::vector<std::vector<float>>> run_prompt_only(
    Engine& engine, std::vector<std::vector<int32_t>> prompts, PromptOutput output,
    const std::vector<int32_t>& logit_ids, const std::string& param);

// The first `dimensions` values (0: all), scaled to unit L2 norm when `normalize`.
std::vector<float> finish_embedding(std::vector<float> v, int64_t dimensions, bool normalize);
// softmax([yes, no])[0], computed without overflow.
float yes_probability(float yes_logit, float no_logit);

RequestResult<std::vector<std::vector<float>>> embed_last_token(
    Engine& engine, std::vector<std::vector<int32_t>> inputs, int64_t dimensions, bool normalize);
RequestResult<std::vector<float>> score_yes_no(Engine& engine,
                                               std::vector<std::vector<int32_t>> prompts,
                                               int32_t yes_id, int32_t no_id,
                                               const std::string& param);

}  // namespace sluice
