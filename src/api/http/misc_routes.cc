// GET /health, /v1/models, /v1/models/{id} (by prefix: route_model_card), /metrics
#include <httplib.h>

#include "api/http/http_util.h"
#include "api/http/routes.h"

namespace sluice::api {

namespace {
Json model_card(const ServerContext& ctx) {
  Json card = {
      {"id", ctx.model_id}, {"object", "model"}, {"created", ctx.created}, {"owned_by", "sluice"}};
  if (ctx.engine) card["max_model_len"] = ctx.engine->max_model_len();
  if (ctx.embedder) card["max_model_len"] = ctx.embedder->max_tokens();
  return card;
}
}  // namespace

void register_misc_routes(httplib::Server& server, ServerContext& ctx) {
  server.Get("/health", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle(ctx, req, res, Protocol::kOpenAI, "/health", [&] {
      ctx.require_ready();
      set_json(res, Json{{"status", "ok"}});
    });
  });
  server.Get("/v1/models", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle(ctx, req, res, Protocol::kOpenAI, "/v1/models", [&] {
      ctx.require_ready();
      set_json(res, Json{{"object", "list"}, {"data", Json::array({model_card(ctx)})}});
    });
  });
  server.Get("/metrics", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle(ctx, req, res, Protocol::kOpenAI, "/metrics", [&] {
      EngineMetrics m;
      const bool have = ctx.ready.load() && ctx.engine;
      if (have) m = ctx.engine->metrics();
      const ServerMetrics::ServerGauges server{ctx.in_flight.load(), ctx.draining.load()};
      res.set_content(ctx.metrics.render(have ? &m : nullptr, server), "text/plain; version=0.0.4");
    });
  });
}

bool route_model_card(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  static const std::string kPrefix = "/v1/models/";
  if (req.method != "GET" || req.path.size() <= kPrefix.size() || req.path.rfind(kPrefix, 0) != 0)
    return false;
  handle(ctx, req, res, Protocol::kOpenAI, "/v1/models/{id}", [&] {
    ctx.require_ready();
    const std::string id = req.path.substr(kPrefix.size());
    if (id != ctx.model_id)
      throw ApiError(ErrorKind::kModelNotFound, "the model '" + id + "' does not exist", "model");
    set_json(res, model_card(ctx));
  });
  return true;
}

}  // namespace sluice::api
