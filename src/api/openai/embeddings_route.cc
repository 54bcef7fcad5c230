// POST /v1/embeddings (OpenAI's shape): input as a string, a list of strings, a list of token ids
// or a list of token-id lists; encoding_format float or base64 (little-endian float32);
// dimensions (Matryoshka: the first values, re-normalized) where the model declares it.
// An encoder runs on its EmbeddingEngine, a decoder (last-token pooling) on its Engine.
//   {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...] | "b64"}],
//    "model": id, "usage": {"prompt_tokens": n, "total_tokens": n}}
#include <httplib.h>

#include <bit>
#include <chrono>
#include <cstring>

#include "api/http/http_util.h"
#include "api/http/model_route.h"
#include "api/http/routes.h"
#include "common/base64.h"
#include "engine/prompt_pooling.h"
#include "tokenizer/encoder_input.h"

namespace sluice::api {

namespace {

// Inputs per request, as OpenAI bounds them.
constexpr size_t kMaxInputs = 2048;

const char* const kEmbeddingFields[] = {"model", "input", "encoding_format", "dimensions", "user"};

bool is_token_list(const Json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const Json& t : v)
    if (!t.is_number_integer()) return false;
  return true;
}

std::vector<int32_t> token_ids(const Json& list) {
  std::vector<int32_t> ids;
  for (const Json& t : list) {
    const int64_t id = t.get<int64_t>();
    if (id < 0 || id > INT32_MAX)
      throw invalid("input: token id " + std::to_string(id) + " is out of range", "input");
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

EncoderSequence from_text(const ModelContext& ctx, const std::string& text) {
  if (text.empty()) throw invalid("input must not contain an empty string", "input");
  if (!ctx.encoder)  // a decoder: its tokenizer's post-processor (Qwen3-Embedding's adds EOS)
    return EncoderSequence{
        ctx.model->tokenizer().encode(text, {.add_special = true, .parse_special = true}), {}};
  auto e = encode_for_encoder(ctx.encoder->tokenizer(), text, nullptr, {});
  if (!e) throw invalid("input: " + e.error(), "input");
  return EncoderSequence{std::move(e->ids), std::move(e->type_ids)};
}

// The request's inputs: texts are tokenized with the model's special tokens; token ids are
// used as given (as vLLM and OpenAI take them).
std::vector<EncoderSequence> parse_inputs(const ModelContext& ctx, const Json& input) {
  std::vector<EncoderSequence> out;
  if (input.is_string()) {
    out.push_back(from_text(ctx, input.get<std::string>()));
    return out;
  }
  const char* kShape =
      "input must be a string, a list of strings, a list of token ids or a list of token-id lists";
  if (!input.is_array()) throw invalid(kShape, "input");
  if (input.empty()) throw invalid("input must not be an empty list", "input");
  if (input.size() > kMaxInputs)
    throw invalid("input has " + std::to_string(input.size()) + " items; at most " +
                      std::to_string(kMaxInputs) + " are allowed per request",
                  "input");
  if (is_token_list(input)) {
    out.push_back(EncoderSequence{token_ids(input), {}});
    return out;
  }
  for (const Json& item : input) {
    if (item.is_string())
      out.push_back(from_text(ctx, item.get<std::string>()));
    else if (is_token_list(item))
      out.push_back(EncoderSequence{token_ids(item), {}});
    else if (item.is_array() && item.empty())
      throw invalid("input must not contain an empty token list", "input");
    else
      throw invalid(kShape, "input");
  }
  return out;
}

Json base64_floats(const std::vector<float>& v) {
  std::string bytes(v.size() * sizeof(float), '\0');
  static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian");
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return base64::encode(bytes);
}

RequestResult<EmbeddingResult> embed_with_encoder(ModelContext& ctx, EmbeddingRequest request) {
  auto future = ctx.embedder->submit(std::move(request));
  if (!future) return future.request_error();
  return future->get();
}

// Last-token pooling through the decoder's Engine (prompt-only requests, batched by its scheduler).
RequestResult<EmbeddingResult> embed_with_decoder(ModelContext& ctx, EmbeddingRequest request,
                                                  int64_t dimensions) {
  EmbeddingResult result;
  std::vector<std::vector<int32_t>> inputs;
  for (EncoderSequence& in : request.inputs) {
    result.num_tokens += static_cast<int64_t>(in.ids.size());
    inputs.push_back(std::move(in.ids));
  }
  auto vectors =
      embed_last_token(*ctx.engine, std::move(inputs), dimensions, ctx.decoder_pooling.normalize);
  if (!vectors) return vectors.request_error();
  result.vectors = std::move(*vectors);
  return result;
}

void embeddings(ModelContext& ctx, const Json& body, httplib::Response& res) {
  for (const auto& [key, value] : body.items())
    if (!listed(kEmbeddingFields, key))
      throw invalid("unknown parameter '" + key + "' (supported: model, input, encoding_format, " +
                        "dimensions, user)",
                    key);
  if (const Json* m = json_field(body, "model")) json_string(*m, "model");  // a string
  if (const Json* u = json_field(body, "user")) json_string(*u, "user");
  bool as_base64 = false;
  if (const Json* f = json_field(body, "encoding_format")) {
    const std::string& fmt = json_string(*f, "encoding_format");
    if (fmt != "float" && fmt != "base64")
      throw invalid("encoding_format must be 'float' or 'base64', got '" + fmt + "'",
                    "encoding_format");
    as_base64 = fmt == "base64";
  }
  const int64_t hidden =
      ctx.encoder ? ctx.encoder->config().hidden_size : ctx.model->config().hidden_size;
  int64_t dimensions = 0;  // all
  if (const Json* d = json_field(body, "dimensions")) {
    if (!d->is_number_integer()) throw invalid("dimensions must be an integer", "dimensions");
    dimensions = d->get<int64_t>();
    if (std::string why = ctx.decoder_pooling.check_dimensions(dimensions, hidden); !why.empty())
      throw invalid("dimensions is not supported by the model '" + ctx.model_id + "': " + why,
                    "dimensions");
  }
  const Json* input = json_field(body, "input");
  if (!input) throw invalid("input is required", "input");
  EmbeddingRequest request{parse_inputs(ctx, *input)};
  RequestResult<EmbeddingResult> result =
      ctx.encoder ? embed_with_encoder(ctx, std::move(request))
                  : embed_with_decoder(ctx, std::move(request), dimensions);
  if (!result) throw engine_error(result.request_error());
  Json data = Json::array();
  for (size_t i = 0; i < result->vectors.size(); ++i) {
    const std::vector<float>& v = result->vectors[i];
    data.push_back(Json{{"object", "embedding"},
                        {"index", i},
                        {"embedding", as_base64 ? base64_floats(v) : Json(v)}});
  }
  set_json(res,
           Json{{"object", "list"},
                {"data", std::move(data)},
                {"model", ctx.model_id},
                {"usage",
                 {{"prompt_tokens", result->num_tokens}, {"total_tokens", result->num_tokens}}}});
}

}  // namespace

void register_embeddings_routes(httplib::Server& http, ServerState& server) {
  post_model_route(http, server, "/v1/embeddings", Protocol::kOpenAI, embeddings);
}

}  // namespace sluice::api
