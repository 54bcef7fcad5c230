// POST /v1/chat/completions, /v1/completions, /tokenize, /detokenize
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#include "api/chat_prompt.h"
#include "api/generation.h"
#include "api/http/client_socket.h"
#include "api/http/http_util.h"
#include "api/http/model_route.h"
#include "api/http/routes.h"
#include "api/openai/openai_params.h"
#include "api/openai/openai_responses.h"
#include "api/output_plan.h"
#include "tokenizer/utf8.h"

namespace sluice::api {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(100);
// While nothing is produced (queued, long prefill), an SSE comment this often finds dead clients.
constexpr auto kKeepAlive = std::chrono::seconds(2);

int32_t vocab_size(const ModelContext& ctx) {
  return static_cast<int32_t>(ctx.model->config().vocab_size);
}

// Streams SSE from the Generation; a write that fails (client gone) aborts the request at once
// so its KV blocks return to the pool.
void stream_response(httplib::Response& res, std::unique_ptr<Generation> generation,
                     StreamEncoder encoder) {
  struct State {
    std::unique_ptr<Generation> gen;
    StreamEncoder enc;
    bool started = false;
    Clock::time_point last_write;
  };
  auto st = std::make_shared<State>(
      State{std::move(generation), std::move(encoder), false, Clock::now()});
  res.status = 200;
  current_request().streamed = true;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [st](size_t, httplib::DataSink& sink) {
    // An empty write would end httplib's chunked loop: only non-empty text goes out.
    auto send = [&](const std::string& s) {
      if (s.empty()) return true;
      st->last_write = Clock::now();
      if (sink.write(s.data(), s.size())) return true;
      st->gen->abort(AbortCause::kClientGone);
      return false;
    };
    auto end = [&](const std::string& s) {  // the last event
      if (send(s)) {
        current_request().stream_ended = true;
        sink.done();
      }
      return true;
    };
    try {
      if (!st->started) {
        st->started = true;
        st->last_write = Clock::now();
        return send(st->enc.start());
      }
      auto out = st->gen->next(kPoll);
      if (!out) {
        if (client_gone()) {
          st->gen->abort(AbortCause::kClientGone);
          return false;
        }
        if (Clock::now() - st->last_write >= kKeepAlive) return send(": keep-alive\n\n");
        return true;
      }
      if (!out->error.empty())
        return end(st->enc.error(
            ApiError(ErrorKind::kInternal, "the engine failed the request: " + out->error)));
      if (out->finished && st->gen->abort_cause() == AbortCause::kShutdown)
        return end(st->enc.error(ApiError(ErrorKind::kUnavailable, "the server is shutting down")));
      if (!out->finished) return send(st->enc.on_output(*out));
      return end(st->enc.on_output(*out));
    } catch (const std::exception& e) {  // headers are out: the error goes in the stream
      st->gen->abort(AbortCause::kFailed);
      return end(st->enc.error(
          ApiError(ErrorKind::kInternal, std::string("internal error: ") + e.what())));
    }
  });
}

// Submits the request and answers it, as one JSON body or as an SSE stream.
void run_request(ModelContext& ctx, httplib::Response& res, OpenAIRequest& r,
                 std::vector<int32_t> prompt, const std::string& prompt_param,
                 std::shared_ptr<OutputPlan> plan, const std::string& prompt_text,
                 std::vector<ImageInput> images = {}) {
  const bool chat = r.endpoint == OpenAIEndpoint::kChat;
  apply_default_max_tokens(r, static_cast<int64_t>(prompt.size()), ctx.engine->max_model_len(),
                           ctx.engine->kv_capacity_tokens(), prompt_param);
  EngineRequest er;
  er.id = ctx.new_id(chat ? "chatcmpl-" : "cmpl-");
  er.prompt = std::move(prompt);
  er.images = std::move(images);
  er.params = r.params;
  er.cache_salt = r.cache_salt;
  er.skip_special_tokens = r.skip_special_tokens;
  apply_output_plan(ctx, r.output, *plan, prompt_text, er);

  ResponseMeta meta;
  meta.endpoint = r.endpoint;
  meta.id = er.id;
  meta.created = static_cast<int64_t>(std::time(nullptr));
  meta.model = ctx.model_id;
  meta.n = r.params.n;
  meta.logprobs = r.logprobs;
  meta.top_logprobs = r.top_logprobs;
  meta.include_usage = r.stream && r.include_usage;
  meta.tokenizer = &ctx.model->tokenizer();
  if (chat) meta.plan = std::move(plan);

  std::unique_ptr<Generation> gen;
  try {
    gen = std::make_unique<Generation>(ctx, std::move(er));
  } catch (const ApiError& e) {  // named by the engine's field names
    throw ApiError(e.kind(), e.what(), openai_field(e.param(), r, prompt_param));
  }
  if (r.stream) {
    stream_response(res, std::move(gen), StreamEncoder(std::move(meta)));
    return;
  }
  const RequestOutput all = gen->wait_all(client_gone);
  if (!all.error.empty())
    throw ApiError(ErrorKind::kInternal, "the engine failed the request: " + all.error);
  // A timeout returns the partial text with finish_reason "length" (cut short) and the header
  // x-sluice-timeout: 1.
  switch (gen->abort_cause()) {
    case AbortCause::kNone:
      break;
    case AbortCause::kTimeout:
      res.set_header("x-sluice-timeout", "1");
      break;
    case AbortCause::kClientGone:
      throw ApiError(ErrorKind::kClientClosed, "the client closed the connection");
    case AbortCause::kShutdown:
    case AbortCause::kFailed:
      throw ApiError(ErrorKind::kUnavailable, "the server is shutting down");
  }
  set_json(res, build_response(meta, all));
}

void chat_completions(ModelContext& ctx, const Json& body, httplib::Response& res) {
  OpenAIRequest r = parse_openai_request(body, OpenAIEndpoint::kChat, vocab_size(ctx));
  ChatPromptInput in;
  in.messages = std::move(r.messages);
  in.kwargs = std::move(r.template_kwargs);
  in.add_generation_prompt = r.add_generation_prompt;
  auto plan = std::make_shared<OutputPlan>(plan_chat_output(ctx, r.output, in));
  ChatPrompt prompt = build_chat_prompt(ctx, std::move(in));
  run_request(ctx, res, r, std::move(prompt.tokens), "messages", std::move(plan), prompt.text,
              std::move(prompt.images));
}

void completions(ModelContext& ctx, const Json& body, httplib::Response& res) {
  OpenAIRequest r = parse_openai_request(body, OpenAIEndpoint::kCompletions, vocab_size(ctx));
  std::vector<int32_t> prompt =
      r.prompt_is_tokens ? std::move(r.prompt_tokens) : tokenize_prompt(ctx, r.prompt_text);
  run_request(ctx, res, r, std::move(prompt), "prompt", std::make_shared<OutputPlan>(), "");
}

// {"prompt": str, "add_special_tokens": true} | {"messages": [...], "add_generation_prompt": true}
void tokenize(ModelContext& ctx, const Json& body, httplib::Response& res) {
  if (const Json* m = json_field(body, "model")) json_string(*m, "model");  // a string
  std::vector<int32_t> tokens;
  if (body.contains("messages")) {
    ChatPromptInput in;
    in.messages = body.at("messages");
    if (const Json* v = json_field(body, "add_generation_prompt"))
      in.add_generation_prompt = json_bool(*v, "add_generation_prompt");
    if (const Json* v = json_field(body, "chat_template_kwargs")) {
      if (!v->is_object())
        throw invalid("chat_template_kwargs must be an object", "chat_template_kwargs");
      in.kwargs = *v;
    }
    tokens = build_chat_prompt(ctx, std::move(in)).tokens;
  } else if (const Json* p = json_field(body, "prompt")) {
    EncodeOptions opts = raw_prompt_encoding();  // as /v1/completions reads the prompt
    if (const Json* v = json_field(body, "add_special_tokens"))
      opts.add_special = json_bool(*v, "add_special_tokens");
    tokens = ctx.model->tokenizer().encode(json_string(*p, "prompt"), opts);
  } else {
    throw invalid("prompt or messages is required", "prompt");
  }
  set_json(res, Json{{"tokens", tokens},
                     {"count", tokens.size()},
                     {"max_model_len", ctx.engine->max_model_len()}});
}

// {"tokens": [ids]} -> {"prompt": text} (special tokens kept)
void detokenize(ModelContext& ctx, const Json& body, httplib::Response& res) {
  if (const Json* m = json_field(body, "model")) json_string(*m, "model");  // a string
  const Json* t = json_field(body, "tokens");
  if (!t) throw invalid("tokens is required", "tokens");
  if (!t->is_array()) throw invalid("tokens must be a list of token ids", "tokens");
  const Tokenizer& tok = ctx.model->tokenizer();
  std::vector<int32_t> ids;
  for (const Json& v : *t) {
    if (!v.is_number_integer()) throw invalid("tokens must be a list of token ids", "tokens");
    const int64_t id = v.get<int64_t>();
    if (id < 0 || id >= tok.vocab_size())
      throw invalid("token id " + std::to_string(id) + " is out of range [0, " +
                        std::to_string(tok.vocab_size()) + ")",
                    "tokens");
    ids.push_back(static_cast<int32_t>(id));
  }
  set_json(res, Json{{"prompt", utf8::sanitize(tok.decode(ids, false))}});
}

}  // namespace

void register_openai_routes(httplib::Server& http, ServerState& server) {
  post_model_route(http, server, "/v1/chat/completions", Protocol::kOpenAI, chat_completions);
  post_model_route(http, server, "/v1/completions", Protocol::kOpenAI, completions);
  post_model_route(http, server, "/tokenize", Protocol::kOpenAI, tokenize);
  post_model_route(http, server, "/detokenize", Protocol::kOpenAI, detokenize);
}

}  // namespace sluice::api
