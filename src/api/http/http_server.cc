#include "api/http/http_server.h"

#include <httplib.h>

#include <algorithm>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/socket.h>
#endif
#include <chrono>
#include <thread>

#include "api/http/client_socket.h"
#include "api/http/connection_server.h"
#include "api/http/http_util.h"
#include "api/http/routes.h"
#include "api/model_registry.h"

namespace sluice::api {

namespace {

// Anthropic-shaped errors for the Messages API routes, OpenAI-shaped for everything else.
Protocol protocol_of(const std::string& path) {
  return path.rfind("/v1/messages", 0) == 0 ? Protocol::kAnthropic : Protocol::kOpenAI;
}

// The metrics label of a path no handler labelled (401, 404, 413, a bad request line): a route
// of ours, else "other" (so random paths cannot grow the label set).
std::string route_label(const std::string& path) {
  static const char* const kRoutes[] = {
      "/health",      "/metrics",  "/v1/models",  "/v1/chat/completions",     "/v1/completions",
      "/v1/messages", "/tokenize", "/detokenize", "/v1/messages/count_tokens"};
  for (const char* r : kRoutes)
    if (path == r) return r;
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  if (path == "/v1/responses" || path == "/v1/responses/input_tokens") return path;
  if (path.rfind("/v1/responses/", 0) == 0) return "/v1/responses/{id}";
  if (is_web_page_path(path)) return path;
  return "other";
}

bool api_key_ok(const httplib::Request& req, const std::string& key) {
  const std::string bearer = req.get_header_value("Authorization");
  if (bearer.size() > 7 && bearer.compare(0, 7, "Bearer ") == 0 && bearer.substr(7) == key)
    return true;
  return req.get_header_value("x-api-key") == key;
}

}  // namespace

HttpServer::HttpServer(ServerState& state)
    : state_(state), server_(std::make_unique<ConnectionServer>()) {
  const int threads = std::max(8, state_.options.http_threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(state_.options.max_body_bytes);
  server_->set_keep_alive_max_count(1000);
  server_->set_tcp_nodelay(true);  // stream each SSE event at once (no Nagle delay)
  // Keeps the listening socket, whose backlog bind() raises (below).
  server_->set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket_ = sock;
  });
  server_->set_read_timeout(300, 0);
  server_->set_write_timeout(300, 0);

  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const auto& origins = state_.options.cors_origins;
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && !origins.empty()) {
      const bool any = std::find(origins.begin(), origins.end(), "*") != origins.end();
      if (any || std::find(origins.begin(), origins.end(), origin) != origins.end()) {
        res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
        res.set_header("Access-Control-Allow-Headers",
                       "Authorization, Content-Type, x-api-key, anthropic-version, anthropic-beta");
        res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      }
    }
    if (req.method == "OPTIONS") {  // CORS preflight
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool open_path =
        req.path == "/health" || (req.method == "GET" && is_web_page_path(req.path));
    if (!state_.options.api_key.empty() && !open_path && !api_key_ok(req, state_.options.api_key)) {
      set_error(res, ApiError(ErrorKind::kAuthentication, "invalid or missing API key"),
                protocol_of(req.path));
      // Answered before the body is read: close, or the unread body breaks the next request.
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (route_model_card(state_, req, res) || route_stored_response(state_, req, res))
      return httplib::Server::HandlerResponse::Handled;
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Errors httplib produces itself (unknown route, body too large, bad request line) get a body.
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const Protocol p = protocol_of(req.path);
    switch (res.status) {
      case 404:
        set_error(res,
                  ApiError(ErrorKind::kNotFound, "no route for " + req.method + " " + req.path), p);
        break;
      case 413:
        set_error(res, ApiError(ErrorKind::kPayloadTooLarge, "the request body is too large"), p);
        break;
      case 405:
        set_error(res, ApiError(ErrorKind::kMethodNotAllowed, "method not allowed"), p);
        break;
      default:
        if (res.status >= 400 && res.status < 500) set_error(res, invalid("bad HTTP request"), p);
        break;
    }
  });

  // Every response ends here once written (streams included): counted once, with its real
  // status; a stream cut before its last event counts as 499 (client gone).
  server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    RequestRecord& record = current_request();
    const int status = record.streamed && !record.stream_ended ? 499 : res.status;
    state_.metrics.count_request(record.route.empty() ? route_label(req.path) : record.route,
                                 record.model, status);
    record = {};
#ifdef __GLIBC__
    // After a large body (and the JSON, prompt and tokens made from it) glibc keeps the freed
    // pages spread over its arenas: RSS would only grow. Rare and ~ms: give them back.
    if (req.body.size() >= (1u << 20)) malloc_trim(0);
#endif
  });

  register_misc_routes(*server_, state_);
  register_openai_routes(*server_, state_);
  register_embeddings_routes(*server_, state_);
  register_rerank_routes(*server_, state_);
  register_anthropic_routes(*server_, state_);
  register_responses_routes(*server_, state_);
  register_web_routes(*server_);
}

HttpServer::~HttpServer() = default;

Status HttpServer::bind() {
  if (state_.options.port == 0) {
    port_ = server_->bind_to_any_port(state_.options.host);
    if (port_ <= 0) return Status::error("serve", "cannot bind " + state_.options.host);
  } else {
    if (!server_->bind_to_port(state_.options.host, state_.options.port))
      return Status::error("serve", "cannot bind " + state_.options.host + ":" +
                                        std::to_string(state_.options.port) + " (in use?)");
    port_ = state_.options.port;
  }
  // cpp-httplib listens with a backlog of 5: many clients connecting at once (an agent's parallel
  // tool calls, 64 streams in the e2e tests) overflowed it and a client's connection was reset.
  // A second listen() on the bound socket sets the system's largest backlog.
  if (listen_socket_ >= 0 && ::listen(listen_socket_, SOMAXCONN) != 0)
    return Status::error("serve", "cannot listen on " + state_.options.host);
  return Status::ok();
}

void HttpServer::run() {
  server_->listen_after_bind();
}

void HttpServer::stop() {
  server_->stop();
}

void HttpServer::stop_once_running(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->stop();
}

void HttpServer::drain(double timeout_s) {
  using Clock = std::chrono::steady_clock;
  auto wait_idle = [this](Clock::time_point deadline) {
    while (state_.in_flight.load() > 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  state_.draining = true;
  wait_idle(Clock::now() +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s)));
  if (state_.in_flight.load() > 0) {
    for (const ModelRegistry::Status& s : state_.models->list())
      if (s.loaded && s.loaded->engine)
        s.loaded->engine->shut_down();  // aborts the rest; their handlers answer within a poll
    wait_idle(Clock::now() + std::chrono::milliseconds(800));
  }
  stop();
}

}  // namespace sluice::api
