// POST /v1/rerank (also /rerank and /v2/rerank, as vLLM serves them), the Jina / Cohere shape:
//   {"model", "query": str, "documents": [str | {"text": str}], "top_n", "return_documents"}
//   -> {"id", "model", "usage": {"total_tokens"},
//       "results": [{"index", "relevance_score", "document": {"text"}}]}  best first
// Each pair is encoded as [CLS] query [SEP] document [SEP] (token types 0 then 1) and cut to the
// model's length by longest_first, as sentence-transformers' CrossEncoder does; all pairs of a
// request go to the engine at once and are batched with other requests'. A decoder served with
// --task rerank scores P(yes) on Qwen3-Reranker's prompt instead (api/decoder_rerank.h).
#include <httplib.h>

#include <algorithm>
#include <numeric>

#include "api/decoder_rerank.h"
#include "api/http/http_util.h"
#include "api/http/model_route.h"
#include "api/http/routes.h"
#include "tokenizer/encoder_input.h"

namespace sluice::api {

namespace {

// Documents per request (Cohere's bound).
constexpr size_t kMaxDocuments = 1000;

const char* const kRerankFields[] = {"model", "query", "documents", "top_n", "return_documents"};

std::vector<std::string> parse_documents(const Json& docs) {
  if (!docs.is_array())
    throw invalid("documents must be a list of strings or {text} objects", "documents");
  if (docs.empty()) throw invalid("documents must not be empty", "documents");
  if (docs.size() > kMaxDocuments)
    throw invalid("documents has " + std::to_string(docs.size()) + " items; at most " +
                      std::to_string(kMaxDocuments) + " are allowed per request",
                  "documents");
  std::vector<std::string> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    const Json& d = docs[i];
    const std::string where = "documents[" + std::to_string(i) + "]";
    const Json* text = d.is_object() ? json_field(d, "text") : &d;
    if (d.is_object())
      for (const auto& [key, value] : d.items())
        if (key != "text")
          throw invalid(where + ": unknown field '" + key + "' (a document is {text})",
                        "documents");
    if (!text || !text->is_string())
      throw invalid(where + " must be a string or an object with a string 'text'", "documents");
    if (text->get_ref<const std::string&>().empty())
      throw invalid(where + " must not be empty", "documents");
    out.push_back(text->get<std::string>());
  }
  return out;
}

EncoderSequence encode_pair(const ModelContext& ctx, const std::string& query,
                            const std::string& doc) {
  const std::string_view b = doc;
  EncoderInputOptions opts;
  opts.max_length = static_cast<size_t>(ctx.encoder->config().max_tokens);
  auto e = encode_for_encoder(ctx.encoder->tokenizer(), query, &b, opts);
  if (!e) throw invalid("documents: " + e.error(), "documents");
  return EncoderSequence{std::move(e->ids), std::move(e->type_ids)};
}

void rerank(ModelContext& ctx, const Json& body, httplib::Response& res) {
  for (const auto& [key, value] : body.items())
    if (!listed(kRerankFields, key))
      throw invalid("unknown parameter '" + key +
                        "' (supported: model, query, documents, top_n, return_documents)",
                    key);
  if (const Json* m = json_field(body, "model")) json_string(*m, "model");  // a string
  const Json* q = json_field(body, "query");
  if (!q) throw invalid("query is required", "query");
  const std::string& query = json_string(*q, "query");
  if (query.empty()) throw invalid("query must not be empty", "query");
  const Json* d = json_field(body, "documents");
  if (!d) throw invalid("documents is required", "documents");
  const std::vector<std::string> docs = parse_documents(*d);
  size_t top_n = docs.size();  // absent or 0: all (vLLM)
  if (const Json* t = json_field(body, "top_n")) {
    const int64_t n = json_int(*t, "top_n");
    if (n < 0) throw invalid("top_n must not be negative", "top_n");
    if (n > 0) top_n = std::min(top_n, static_cast<size_t>(n));
  }
  bool return_documents = true;  // vLLM and Jina return them by default
  if (const Json* r = json_field(body, "return_documents"))
    return_documents = json_bool(*r, "return_documents");

  std::vector<float> scores;
  int64_t num_tokens = 0;
  if (ctx.encoder) {  // a cross-encoder: one classifier logit per pair
    EmbeddingRequest request;
    for (const std::string& doc : docs) request.inputs.push_back(encode_pair(ctx, query, doc));
    auto future = ctx.embedder->submit(std::move(request));
    if (!future) throw engine_error(future.request_error());
    RequestResult<EmbeddingResult> result = future->get();
    if (!result) throw engine_error(result.request_error());
    for (const auto& v : result->vectors) scores.push_back(v[0]);
    num_tokens = result->num_tokens;
  } else {  // a decoder: P(yes) at the end of the reranker prompt
    const Tokenizer& tok = ctx.model->tokenizer();
    DecoderRerankScores r = decoder_rerank_scores(*ctx.engine, tok, query, docs);
    scores = std::move(r.scores);
    for (int64_t n : r.num_tokens) num_tokens += n;
  }
  std::vector<size_t> order(docs.size());
  std::iota(order.begin(), order.end(), 0);
  auto score = [&](size_t i) { return scores[i]; };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return score(a) > score(b); });
  Json results = Json::array();
  for (size_t k = 0; k < top_n; ++k) {
    const size_t i = order[k];
    Json item{{"index", i}, {"relevance_score", score(i)}};
    if (return_documents) item["document"] = Json{{"text", docs[i]}};
    results.push_back(std::move(item));
  }
  set_json(res, Json{{"id", ctx.new_id("rerank-")},
                     {"model", ctx.model_id},
                     {"usage", {{"total_tokens", num_tokens}}},
                     {"results", std::move(results)}});
}

}  // namespace

void register_rerank_routes(httplib::Server& http, ServerState& server) {
  for (const char* route : {"/v1/rerank", "/rerank", "/v2/rerank"})
    post_model_route(http, server, route, Protocol::kOpenAI, rerank);
}

}  // namespace sluice::api
