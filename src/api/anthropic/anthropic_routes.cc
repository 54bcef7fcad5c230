// POST /v1/messages, /v1/messages/count_tokens (the Anthropic Messages API).
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "api/anthropic/anthropic_params.h"
#include "api/anthropic/anthropic_responses.h"
#include "api/generation.h"
#include "api/http/client_socket.h"
#include "api/http/http_util.h"
#include "api/http/model_route.h"
#include "api/http/routes.h"

namespace sluice::api {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(200);
// With no output for this long a ping goes out, so a client gone during a long prefill is noticed.
constexpr auto kKeepAlive = std::chrono::seconds(2);

EngineRequest engine_request(ModelContext& ctx, const AnthropicRequest& r,
                             AnthropicPromptTokens& prompt) {
  EngineRequest e;
  e.id = ctx.new_id("msg_");
  e.prompt = std::move(prompt.tokens);
  e.images = std::move(prompt.images);
  e.params = r.params;
  // Clients such as Claude Code ask for more output tokens than a local context holds: max_tokens
  // is a cap, so it is clamped to the room left after the prompt (a prompt that fills the context
  // is still a 400).
  const int64_t room =
      std::min<int64_t>(ctx.engine->max_model_len(), ctx.engine->kv_capacity_tokens()) -
      static_cast<int64_t>(e.prompt.size());
  if (room < 1)
    throw invalid("prompt is too long: " + std::to_string(e.prompt.size()) +
                      " tokens leave no room for output in the context of " +
                      std::to_string(ctx.engine->max_model_len()) + " tokens",
                  "messages");
  e.params.max_tokens = static_cast<int32_t>(std::min<int64_t>(e.params.max_tokens, room));
  apply_output_plan(ctx, r.prompt.output, *prompt.plan, prompt.text, e);
  return e;
}

void respond_once(ModelContext& ctx, httplib::Response& res, EngineRequest e,
                  const std::vector<std::string>& stops, const OutputPlan& plan) {
  const std::string id = e.id;
  Generation gen(ctx, std::move(e));
  const RequestOutput out = gen.wait_all(client_gone);
  const SequenceDelta& d =
      checked_final(out.deltas.empty() ? nullptr : &out.deltas[0], out.error, gen.abort_cause());
  const AssistantMessage m = parse_assistant_text(plan, d.text, "toolu_");
  res.set_header("request-id", id);
  set_json(res,
           message_json(id, ctx.model_id, content_blocks(m),
                        anthropic_stop(d, stops, !m.calls.empty()), anthropic_usage(out.stats)));
}

// Writes the whole event stream in one provider call; a failed write (client gone) aborts the
// request at once. Admission errors were raised before, as plain HTTP errors.
void respond_stream(ModelContext& ctx, httplib::Response& res, EngineRequest e,
                    std::vector<std::string> stops, std::shared_ptr<OutputPlan> plan) {
  const std::string id = e.id;
  const int64_t num_prompt = static_cast<int64_t>(e.prompt.size());
  auto gen = std::make_shared<Generation>(ctx, std::move(e));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("request-id", id);
  current_request().streamed = true;
  res.set_chunked_content_provider(
      "text/event-stream",
      [&ctx, gen, id, num_prompt, stops = std::move(stops), plan](size_t, httplib::DataSink& sink) {
        auto send = [&](const std::string& s) {
          if (s.empty()) return true;
          if (sink.write(s.data(), s.size())) return true;
          gen->abort(AbortCause::kClientGone);
          return false;
        };
        // Plain text: one text block opened at once. Parsed output (thinking, tool calls): blocks
        // open as their first event arrives.
        AssistantOutputParser parser(*plan, "toolu_");
        BlockStreamWriter blocks;
        const bool parsed = parser.parses_anything();
        if (!send(message_start_event(id, ctx.model_id, num_prompt) +
                  (parsed ? "" : content_block_start_event()) + ping_event()))
          return false;
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
                if (!send(ping_event())) return false;
                idle_since = Clock::now();
              }
              continue;
            }
            idle_since = Clock::now();
            for (SequenceDelta& d : out->deltas) {
              if (parsed) {
                std::vector<AssistantEvent> events;
                parser.feed(d.text, events);
                if (d.finish_reason) parser.finish(events);
                if (!send(blocks.on_events(events))) return false;
              } else if (!d.text.empty() && !send(text_delta_event(d.text))) {
                return false;
              }
              if (d.finish_reason) last = std::move(d);
            }
            if (out->finished) {  // abort / failure: the error event below
              const SequenceDelta& d =
                  checked_final(last ? &*last : nullptr, out->error, gen->abort_cause());
              if (!send((parsed ? blocks.close() : content_block_stop_event()) +
                        message_delta_event(anthropic_stop(d, stops, blocks.called_tools()),
                                            anthropic_usage(out->stats)) +
                        message_stop_event()))
                return false;
            }
          }
        } catch (const ApiError& err) {
          if (!send(error_event(err))) return false;
        } catch (const std::exception& ex) {
          if (!send(error_event(
                  ApiError(ErrorKind::kInternal, std::string("internal error: ") + ex.what()))))
            return false;
        }
        current_request().stream_ended = true;
        sink.done();
        return true;
      });
}

}  // namespace

void register_anthropic_routes(httplib::Server& http, ServerState& server) {
  post_model_route(http, server, "/v1/messages", Protocol::kAnthropic,
                   [](ModelContext& ctx, const Json& body, httplib::Response& res) {
                     const AnthropicRequest r = parse_anthropic_request(body);
                     AnthropicPromptTokens prompt = anthropic_prompt_tokens(ctx, r.prompt);
                     EngineRequest e = engine_request(ctx, r, prompt);
                     if (r.stream)
                       respond_stream(ctx, res, std::move(e), r.params.stop, prompt.plan);
                     else
                       respond_once(ctx, res, std::move(e), r.params.stop, *prompt.plan);
                   });
  post_model_route(http, server, "/v1/messages/count_tokens", Protocol::kAnthropic,
                   [](ModelContext& ctx, const Json& body, httplib::Response& res) {
                     const AnthropicPrompt p = parse_anthropic_prompt(body);
                     const auto prompt = anthropic_prompt_tokens(ctx, p);
                     set_json(res, Json{{"input_tokens", prompt.tokens.size()}});
                   });
}

}  // namespace sluice::api
