// GET /health, /v1/models, /metrics; by prefix (route_model_card): GET /v1/models/{id},
// POST /v1/models/{id}/load and /v1/models/{id}/unload.
#include <httplib.h>

#include "api/http/http_util.h"
#include "api/http/routes.h"
#include "api/model_registry.h"

namespace sluice::api {

namespace {

Json model_card(const ServerState& server, const ModelRegistry::Status& s) {
  Json card = {{"id", s.spec.id},
               {"object", "model"},
               {"created", server.created},
               {"owned_by", "sluice"},
               {"state", model_state_name(s.state)}};
  if (const ModelContext* ctx = s.loaded.get()) {
    if (ctx->engine) card["max_model_len"] = ctx->engine->max_model_len();
    if (ctx->embedder) card["max_model_len"] = ctx->embedder->max_tokens();
    card["images"] = ctx->engine && ctx->engine->vision() != nullptr;
  }
  if (s.state == ModelState::kFailed) card["error"] = s.error;
  return card;
}

ModelRegistry::Status status_of(ServerState& server, const std::string& id) {
  auto s = server.models->status(id);
  if (!s)
    throw ApiError(ErrorKind::kModelNotFound, "the model '" + id + "' does not exist", "model");
  return *s;
}

}  // namespace

void register_misc_routes(httplib::Server& http, ServerState& server) {
  http.Get("/health", [&server](const httplib::Request&, httplib::Response& res) {
    handle(res, Protocol::kOpenAI, "/health", [&] {
      server.require_running();
      if (!server.ready.load())
        throw ApiError(ErrorKind::kUnavailable, "the model is still loading");
      set_json(res, Json{{"status", "ok"}});
    });
  });
  http.Get("/v1/models", [&server](const httplib::Request&, httplib::Response& res) {
    handle(res, Protocol::kOpenAI, "/v1/models", [&] {
      server.require_running();
      Json data = Json::array();
      for (const ModelRegistry::Status& s : server.models->list())
        data.push_back(model_card(server, s));
      set_json(res, Json{{"object", "list"}, {"data", std::move(data)}});
    });
  });
  http.Get("/metrics", [&server](const httplib::Request&, httplib::Response& res) {
    handle(res, Protocol::kOpenAI, "/metrics", [&] {
      const std::vector<ModelRegistry::Status> models = server.models->list();
      std::vector<EngineMetrics> engines(models.size());  // stable addresses for the samples
      std::vector<ServerMetrics::ModelSample> samples;
      for (size_t i = 0; i < models.size(); ++i) {
        const ModelRegistry::Status& s = models[i];
        ServerMetrics::ModelSample m{s.spec.id, s.metrics.get(), nullptr,
                                     s.state == ModelState::kLoaded};
        if (s.loaded && s.loaded->engine) {
          engines[i] = s.loaded->engine->metrics();
          m.engine = &engines[i];
        }
        samples.push_back(m);
      }
      const MediaCounters& media = server.media;
      const ServerMetrics::ServerGauges gauges{
          server.in_flight.load(),      server.draining.load(),     media.image_decodes.load(),
          media.image_memo_hits.load(), media.video_decodes.load(), media.video_memo_hits.load()};
      res.set_content(server.metrics.render(samples, gauges), "text/plain; version=0.0.4");
    });
  });
}

bool route_model_card(ServerState& server, const httplib::Request& req, httplib::Response& res) {
  static const std::string kPrefix = "/v1/models/";
  if (req.path.size() <= kPrefix.size() || req.path.rfind(kPrefix, 0) != 0) return false;
  std::string id = req.path.substr(kPrefix.size());
  std::string action;  // "", "load", "unload"
  for (const char* a : {"load", "unload"}) {
    const std::string suffix = std::string("/") + a;
    if (id.size() > suffix.size() &&
        id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0) {
      action = a;
      id.resize(id.size() - suffix.size());
    }
  }
  if (req.method != (action.empty() ? "GET" : "POST")) return false;
  const std::string route = action.empty() ? "/v1/models/{id}" : "/v1/models/{id}/" + action;
  handle(res, Protocol::kOpenAI, route, [&] {
    server.require_running();
    status_of(server, id);  // 404 for an unknown id
    if (action == "load") server.models->acquire(id, server.models->limits().load_timeout_s);
    if (action == "unload") server.models->unload(id);
    set_json(res, model_card(server, status_of(server, id)));
  });
  return true;
}

}  // namespace sluice::api
