#pragma once
// Rerank on a decoder (Qwen3-Reranker style): the model is a causal LM asked whether a document
// meets the query; the score is P(yes) over the "yes" and "no" logits at the last position. For
// POST /v1/rerank when the served model is a decoder. The prompt, as Qwen publishes it (model
// card, vLLM's examples/offline_inference/qwen3_reranker.py):
//   <|im_start|>system\nJudge whether the Document meets the requirements based on the Query and
//   the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n
//   <|im_start|>user\n                                                       (prefix)
//   <Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}      (body)
//   <|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n               (suffix)
// Each part is tokenized on its own, no special tokens added, special-token text parsed.
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace sluice::api {

// Qwen3-Reranker's default instruction.
inline constexpr std::string_view kDefaultRerankInstruction =
    "Given a web search query, retrieve relevant passages that answer the query";

std::vector<int32_t> decoder_rerank_prompt(const Tokenizer& tok, std::string_view instruction,
                                           std::string_view query, std::string_view document);

// P(yes) of each document for the query, in order, and each prompt's token count, on the
// decoder's engine (one batch of prompt-only requests). Throws ApiError: 400 naming "documents"
// for a document too long for the context, 400 when the vocabulary has no "yes" or "no" token;
// 503 once the engine stops.
struct DecoderRerankScores {
  std::vector<float> scores;
  std::vector<int64_t> num_tokens;
};
DecoderRerankScores decoder_rerank_scores(Engine& engine, const Tokenizer& tok,
                                          std::string_view query,
                                          const std::vector<std::string>& documents,
                                          std::string_view instruction = kDefaultRerankInstruction);

}  // namespace sluice::api
