#include "api/http/model_route.h"

#include <httplib.h>

#include <chrono>

#include "api/http/client_socket.h"
#include "api/http/http_util.h"
#include "api/model_registry.h"
#include "common/profile.h"

namespace sluice::api {

namespace {

// The handler on a leased model: the task check, then `fn`, errors in the protocol's shape.
void run_on_model(ModelContext& ctx, const Json& body, httplib::Response& res, Protocol protocol,
                  const std::string& route, const ModelHandler& fn) {
  answer_errors(res, protocol, route, [&] {
    ctx.require_task("POST", route);
    // SLUICE_PROFILE: prompt rendering, tokenizing and the submit (a stream's writes come after).
    profile::WallScope t(profile::enabled() ? "api " + route + " handler" : "");
    fn(ctx, body, res);
  });
}

// An error as the last event of a stream whose 200 went out before the model was up.
std::string stream_error(const httplib::Response& inner, Protocol protocol) {
  Json body = Json::parse(inner.body, nullptr, false);
  if (body.is_discarded())
    body = Json{{"error", {{"message", inner.body}, {"type", "server_error"}}}};
  return protocol == Protocol::kAnthropic ? sse_event("error", body) : sse_data(body);
}

// Streams the wait for the model's load as SSE comments, then the handler's own stream.
void stream_after_load(ServerState& server, Json body, httplib::Response& res, Protocol protocol,
                       const std::string& route, const std::string& id, const ModelHandler& fn) {
  struct Pending {
    Json body;
    ModelLease lease;         // declared before the response: outlives the handler's stream
    httplib::Response inner;  // the handler's response once the model is up
    bool announced = false, started = false;
    std::chrono::steady_clock::time_point deadline;
  };
  auto p = std::make_shared<Pending>();
  p->body = std::move(body);
  p->deadline = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(server.models->limits().load_timeout_s));
  res.set_header("Cache-Control", "no-cache");
  current_request().streamed = true;
  res.set_chunked_content_provider(
      "text/event-stream",
      [&server, p, protocol, route, id, fn](size_t offset, httplib::DataSink& sink) {
        if (!p->announced) {  // at once: the client knows why the first token is late
          p->announced = true;
          const std::string comment = ": loading model '" + id + "'\n\n";
          return sink.write(comment.data(), comment.size());
        }
        if (!p->started) {
          std::string error;
          const ModelState state = server.models->wait_loaded(id, 1.0, &error);
          if (state == ModelState::kLoaded) p->lease = server.models->try_acquire(id);
          if (!p->lease) {
            const bool waiting = state == ModelState::kLoading &&
                                 std::chrono::steady_clock::now() < p->deadline && !client_gone();
            if (waiting) {
              const std::string comment = ": loading model '" + id + "'\n\n";
              return sink.write(comment.data(), comment.size());
            }
            ApiError e(ErrorKind::kUnavailable,
                       state == ModelState::kFailed
                           ? "the model '" + id + "' failed to load: " + error
                           : "the model '" + id + "' did not load in time (--load-timeout)");
            set_error(p->inner, e, protocol);
            const std::string event = stream_error(p->inner, protocol);
            sink.write(event.data(), event.size());
            current_request().stream_ended = true;
            sink.done();
            return true;
          }
          current_request().model = id;
          run_on_model(*p->lease, p->body, p->inner, protocol, route, fn);
          p->started = true;
          if (!p->inner.content_provider_) {  // answered at once (an error): one event
            const std::string event = stream_error(p->inner, protocol);
            sink.write(event.data(), event.size());
            current_request().stream_ended = true;
            sink.done();
            return true;
          }
        }
        return p->inner.content_provider_(offset, 0, sink);
      });
}

}  // namespace

void handle_model(ServerState& server, const httplib::Request& req, httplib::Response& res,
                  Protocol protocol, const std::string& route, const ModelHandler& fn) {
  RequestRecord& record = current_request();
  record.route = route;
  ModelLease lease;
  Json body;
  bool waits_streaming = false;
  std::string id;
  answer_errors(res, protocol, route, [&] {
    server.require_running();
    {
      profile::WallScope t(profile::enabled() ? "api parse body" : "");
      body = parse_body(req);  // once: a picture's base64 makes bodies of megabytes
    }
    const Json* model = json_field(body, "model");
    id = server.models->resolve(model && model->is_string() ? model->get<std::string>() : "");
    record.model = id;
    lease = server.models->try_acquire(id);
    if (lease) return;
    // A load that failed lately is answered at once; one in progress is waited for.
    const bool loading = server.models->status(id)->state == ModelState::kLoading;
    const Json* stream = json_field(body, "stream");
    if (loading && stream && stream->is_boolean() && stream->get<bool>())
      waits_streaming = true;
    else
      lease = server.models->acquire(id, server.models->limits().load_timeout_s);
  });
  if (waits_streaming)
    return stream_after_load(server, std::move(body), res, protocol, route, id, fn);
  if (lease) run_on_model(*lease, body, res, protocol, route, fn);
}

void post_model_route(httplib::Server& http, ServerState& server, const std::string& route,
                      Protocol protocol, ModelHandler fn) {
  http.Post(route,
            [&server, route, protocol, fn](const httplib::Request& req, httplib::Response& res) {
              handle_model(server, req, res, protocol, route, fn);
            });
}

}  // namespace sluice::api
