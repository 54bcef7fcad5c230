// POST /v1/responses, /v1/responses/input_tokens; GET and DELETE /v1/responses/{id} (the OpenAI
// Responses API). The request becomes chat messages and runs through the same prompt, output plan
// and Generation as chat completions; the output is parsed by the same AssistantOutputParser.
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
#include "api/output_plan.h"
#include "api/responses/responses_input.h"
#include "api/responses/responses_output.h"
#include "api/responses/responses_params.h"

namespace sluice::api {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(100);
// While nothing is produced (queued, long prefill), an SSE comment this often finds dead clients.
constexpr auto kKeepAlive = std::chrono::seconds(2);

// A request made ready for the engine: the conversation it continues and its prompt.
struct PreparedResponse {
  ResponsesRequest r;
  Json conversation = Json::array();  // the previous response's conversation, then r.input
  ChatPrompt prompt;
  std::shared_ptr<OutputPlan> plan;
};

// chat_prompt names "messages"; here the prompt is "input".
template <typename Fn>
auto naming_input(Fn&& fn) {
  try {
    return fn();
  } catch (const ApiError& e) {
    if (e.param() != "messages") throw;
    throw ApiError(e.kind(), e.what(), "input");
  }
}

PreparedResponse prepare(ModelContext& ctx, const Json& body, ResponsesEndpoint ep) {
  PreparedResponse p;
  p.r = parse_responses_request(body, ep);
  if (!p.r.previous_response_id.empty()) {
    auto stored = ctx.server->responses.get(p.r.previous_response_id);
    if (!stored)
      throw ApiError(ErrorKind::kNotFound,
                     "Previous response with id '" + p.r.previous_response_id + "' not found.",
                     "previous_response_id");
    p.conversation = std::move(stored->conversation);
  }
  for (const Json& item : p.r.input) p.conversation.push_back(item);
  compile_custom_tools(ctx, p.r.custom);
  ChatPromptInput in;
  std::optional<std::string> instructions = p.r.instructions;
  if (!p.r.custom.forced.empty()) {  // the tool is not offered as a function: say what to write
    const std::string line = forced_tool_instructions(*p.r.custom.find(p.r.custom.forced));
    instructions = instructions ? *instructions + "\n\n" + line : line;
  }
  in.messages = chat_messages(p.conversation, instructions);
  p.plan = std::make_shared<OutputPlan>(plan_chat_output(ctx, p.r.output, in));
  p.prompt = naming_input([&] { return build_chat_prompt(ctx, std::move(in)); });
  return p;
}

EngineRequest engine_request(ModelContext& ctx, PreparedResponse& p, const std::string& id) {
  EngineRequest e;
  e.id = id;
  e.prompt = p.prompt.tokens;
  e.params = p.r.params;
  e.cache_salt = p.r.cache_salt;
  // max_output_tokens is a cap: what the context has room for when larger or not given.
  const int64_t room =
      std::min<int64_t>(ctx.engine->max_model_len(), ctx.engine->kv_capacity_tokens()) -
      static_cast<int64_t>(e.prompt.size());
  if (room < 1)
    throw invalid("the input is too long: " + std::to_string(e.prompt.size()) +
                      " tokens leave no room for output in the context of " +
                      std::to_string(ctx.engine->max_model_len()) + " tokens",
                  "input");
  e.params.max_tokens = static_cast<int32_t>(std::min<int64_t>(
      p.r.max_output_tokens.value_or(INT32_MAX), std::min<int64_t>(room, INT32_MAX)));
  apply_output_plan(ctx, p.r.output, *p.plan, p.prompt.text, e);
  return e;
}

std::unique_ptr<Generation> start(ModelContext& ctx, EngineRequest e) {
  try {
    return std::make_unique<Generation>(ctx, std::move(e));
  } catch (const ApiError& err) {  // named by the engine's field names
    if (err.param() != "prompt") throw;
    throw ApiError(err.kind(), err.what(), "input");
  }
}

int64_t count_tokens(const ModelContext& ctx, const std::string& text) {
  if (text.empty()) return 0;
  return static_cast<int64_t>(
      ctx.model->tokenizer()
          .encode(text, EncodeOptions{.add_special = false, .parse_special = false})
          .size());
}

// The finished response: its object, and the stored conversation when store is on.
Json finish_response(ModelContext& ctx, const PreparedResponse& p, const ResponseHead& head,
                     const ResponseOutputWriter& w, bool incomplete, const RequestStats& stats) {
  Json response = response_json(head, incomplete ? "incomplete" : "completed", w.items(),
                                responses_usage(stats, count_tokens(ctx, w.reasoning())));
  if (p.r.store) {
    Json conversation = p.conversation;
    for (const Json& item : w.items()) conversation.push_back(item);
    const ResponseStoreLimits limits{ctx.options.stored_responses, ctx.options.stored_bytes};
    ctx.server->responses.put(head.id, StoredResponse{response, std::move(conversation)}, limits);
  }
  return response;
}

void respond_once(ModelContext& ctx, httplib::Response& res, const PreparedResponse& p,
                  const ResponseHead& head, std::unique_ptr<Generation> gen) {
  const RequestOutput out = gen->wait_all(client_gone);
  const SequenceDelta& d =
      checked_final(out.deltas.empty() ? nullptr : &out.deltas[0], out.error, gen->abort_cause());
  AssistantOutputParser parser(*p.plan, "call_");
  std::vector<AssistantEvent> events;
  parser.feed(d.text, events);
  parser.finish(events);
  ResponseOutputWriter w(p.r.encrypted_reasoning);
  w.set_custom_tools(&p.r.custom, p.plan->parses_reasoning());
  w.on_events(events);
  const bool incomplete = d.finish_reason == FinishReason::kLength;
  w.finish(incomplete);
  set_json(res, finish_response(ctx, p, head, w, incomplete, out.stats));
}

// Writes the whole event stream in one provider call; a failed write (client gone) aborts the
// request at once. Admission errors were raised before, as plain HTTP errors.
void respond_stream(ModelContext& ctx, httplib::Response& res, std::shared_ptr<PreparedResponse> p,
                    ResponseHead head, std::shared_ptr<Generation> gen) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  current_request().streamed = true;
  res.set_chunked_content_provider("text/event-stream", [&ctx, gen, p, head](
                                                            size_t, httplib::DataSink& sink) {
    auto send = [&](const std::string& s) {
      if (s.empty()) return true;
      if (sink.write(s.data(), s.size())) return true;
      gen->abort(AbortCause::kClientGone);
      return false;
    };
    AssistantOutputParser parser(*p->plan, "call_");
    ResponseOutputWriter w(p->r.encrypted_reasoning);
    w.set_custom_tools(&p->r.custom, p->plan->parses_reasoning());
    if (!send(w.start(response_json(head, "in_progress", Json::array(), nullptr)))) return false;
    try {
      std::optional<SequenceDelta> last;
      auto idle_since = Clock::now();
      while (!gen->finished()) {
        auto out = gen->next(kPoll);
        if (!out) {
          if (client_gone()) {
            gen->abort(AbortCause::kClientGone);
            return false;
          }
          if (Clock::now() - idle_since >= kKeepAlive) {
            if (!send(": keep-alive\n\n")) return false;
            idle_since = Clock::now();
          }
          continue;
        }
        idle_since = Clock::now();
        for (SequenceDelta& d : out->deltas) {
          std::vector<AssistantEvent> events;
          parser.feed(d.text, events);
          if (d.finish_reason) parser.finish(events);
          if (!send(w.on_events(events))) return false;
          if (d.finish_reason) last = std::move(d);
        }
        if (out->finished) {
          const SequenceDelta& d =
              checked_final(last ? &*last : nullptr, out->error, gen->abort_cause());
          const bool incomplete = d.finish_reason == FinishReason::kLength;
          std::string tail = w.finish(incomplete);
          tail += w.end(finish_response(ctx, *p, head, w, incomplete, out->stats));
          if (!send(tail)) return false;
        }
      }
    } catch (const std::exception& ex) {
      const ApiError* api = dynamic_cast<const ApiError*>(&ex);
      const std::string code =
          api && api->kind() == ErrorKind::kUnavailable ? "service_unavailable" : "server_error";
      const std::string message = api ? api->what() : std::string("internal error: ") + ex.what();
      gen->abort(AbortCause::kFailed);
      if (!send(w.end(response_json(head, "failed", w.items(), nullptr,
                                    Json{{"code", code}, {"message", message}}))))
        return false;
    }
    current_request().stream_ended = true;
    sink.done();
    return true;
  });
}

void create(ModelContext& ctx, const Json& body, httplib::Response& res) {
  auto p = std::make_shared<PreparedResponse>(prepare(ctx, body, ResponsesEndpoint::kCreate));
  ResponseHead head;
  head.id = new_tool_call_id("resp_");
  head.created_at = static_cast<int64_t>(std::time(nullptr));
  head.model = ctx.model_id;
  head.echo = p->r.echo;
  std::unique_ptr<Generation> gen = start(ctx, engine_request(ctx, *p, head.id));
  if (p->r.stream)
    respond_stream(ctx, res, std::move(p), std::move(head), std::move(gen));
  else
    respond_once(ctx, res, *p, head, std::move(gen));
}

void input_tokens(ModelContext& ctx, const Json& body, httplib::Response& res) {
  const PreparedResponse p = prepare(ctx, body, ResponsesEndpoint::kInputTokens);
  set_json(res,
           Json{{"object", "response.input_tokens"}, {"input_tokens", p.prompt.tokens.size()}});
}

}  // namespace

void register_responses_routes(httplib::Server& http, ServerState& server) {
  post_model_route(http, server, "/v1/responses", Protocol::kOpenAI, create);
  post_model_route(http, server, "/v1/responses/input_tokens", Protocol::kOpenAI, input_tokens);
}

bool route_stored_response(ServerState& server, const httplib::Request& req,
                           httplib::Response& res) {
  static const std::string kPrefix = "/v1/responses/";
  if ((req.method != "GET" && req.method != "DELETE") || req.path.size() <= kPrefix.size() ||
      req.path.rfind(kPrefix, 0) != 0)
    return false;
  const std::string id = req.path.substr(kPrefix.size());
  if (id.find('/') != std::string::npos) return false;  // sub-resources: no route
  handle(res, Protocol::kOpenAI, "/v1/responses/{id}", [&] {
    server.require_running();
    auto not_found = [&] {
      return ApiError(ErrorKind::kNotFound, "Response with id '" + id + "' not found.", "id");
    };
    if (req.method == "DELETE") {
      if (!server.responses.erase(id)) throw not_found();
      set_json(res, Json{{"id", id}, {"object", "response"}, {"deleted", true}});
      return;
    }
    auto stored = server.responses.get(id);
    if (!stored) throw not_found();
    set_json(res, stored->response);
  });
  return true;
}

}  // namespace sluice::api
