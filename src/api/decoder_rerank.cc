#include "api/decoder_rerank.h"

#include "engine/prompt_pooling.h"

namespace sluice::api {

namespace {
constexpr std::string_view kPrefix =
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    "and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n"
    "<|im_start|>user\n";
constexpr std::string_view kSuffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

int32_t answer_token(const Tokenizer& tok, const char* text) {
  const std::optional<int32_t> id = tok.token_id(text);
  if (!id)
    throw ApiError(ErrorKind::kInvalidRequest,
                   std::string("this model cannot rerank: its vocabulary has no '") + text +
                       "' token for the yes/no answer");
  return *id;
}
}  // namespace

std::vector<int32_t> decoder_rerank_prompt(const Tokenizer& tok, std::string_view instruction,
                                           std::string_view query, std::string_view document) {
  const EncodeOptions opts{.add_special = false, .parse_special = true};
  std::string body = "<Instruct>: ";
  body.append(instruction).append("\n<Query>: ").append(query);
  body.append("\n<Document>: ").append(document);
  std::vector<int32_t> ids = tok.encode(kPrefix, opts);
  for (std::string_view part : {std::string_view(body), kSuffix}) {
    const std::vector<int32_t> more = tok.encode(part, opts);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  return ids;
}

DecoderRerankScores decoder_rerank_scores(Engine& engine, const Tokenizer& tok,
                                          std::string_view query,
                                          const std::vector<std::string>& documents,
                                          std::string_view instruction) {
  const int32_t yes = answer_token(tok, "yes"), no = answer_token(tok, "no");
  DecoderRerankScores out;
  std::vector<std::vector<int32_t>> prompts;
  for (const std::string& doc : documents) {
    prompts.push_back(decoder_rerank_prompt(tok, instruction, query, doc));
    out.num_tokens.push_back(static_cast<int64_t>(prompts.back().size()));
  }
  auto scores = score_yes_no(engine, std::move(prompts), yes, no, "documents");
  if (!scores) throw engine_error(scores.request_error());
  out.scores = std::move(*scores);
  return out;
}

}  // namespace sluice::api
