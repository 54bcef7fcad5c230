// `sluice serve`: the OpenAI- and Anthropic-compatible HTTP server. The port is bound first
// (/health answers 503 while the model loads), then the model and the engine come up.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sstream>
#include <thread>

#include "api/http/http_server.h"
#include "api/output_plan.h"
#include "api/server_context.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/engine_flags.h"
#include "cli/shutdown_signals.h"
#include "parsers/tool_parser.h"

namespace sluice {

namespace {

struct ServeOptions {
  std::string model;
  std::string chat_template;  // a Jinja file that replaces the model's template
  std::string task = "auto";  // auto (from the model) | generate | embed | rerank
  api::ServerOptions server;
  std::vector<std::string> allowed_media_hosts;  // parsed into server.media.allowed_hosts
  EngineFlags engine;
};

// --allowed-media-hosts and --media-path as the fetcher takes them; an error message or "".
std::string apply_media_flags(ServeOptions& o) {
  std::string error;
  std::optional<api::HostAllowList> hosts =
      api::HostAllowList::parse(o.allowed_media_hosts, &error);
  if (!hosts) return error;
  o.server.media.allowed_hosts = std::move(*hosts);
  const std::string& dir = o.server.media.media_path;
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    return "--media-path " + dir + " is not a directory";
  if (o.server.media.timeout_s <= 0) return "--media-timeout must be > 0";
  return "";
}

// "SmolLM2-135M-Instruct.Q4_1.gguf" -> "SmolLM2-135M-Instruct.Q4_1"; a directory -> its name.
std::string default_model_id(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::canonical(path, ec);  // models/default.gguf is a link
  if (ec) p = path;
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  return p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
}

// An encoder directory serves embeddings (rerank for a cross-encoder); a decoder serves
// generation, embeddings (last-token pooling) with --task embed or when its files declare
// last-token pooling, or rerank (yes/no scores, Qwen3-Reranker style) with --task rerank.
Result<api::ServedTask> served_task(const std::string& path, const std::string& task,
                                    DecoderPooling* pooling) {
  const bool encoder = EncoderModel::is_encoder_dir(path);
  const bool cross = encoder && EncoderModel::is_cross_encoder_dir(path);
  const bool rerank = task == "rerank" || task == "score";
  if (encoder) {
    if (task == "embed" && cross)
      return Status::error("serve", path + " is a cross-encoder: it serves rerank (--task rerank)");
    if (rerank && !cross)
      return Status::error("serve",
                           path +
                               " is an embedding encoder; --task rerank needs a "
                               "cross-encoder (BertForSequenceClassification) or a decoder");
    if (task == "generate")
      return Status::error(
          "serve", path + " is an encoder model: it serves " +
                       (cross ? "rerank only (--task rerank)" : "embeddings only (--task embed)"));
    return cross ? api::ServedTask::kRerank : api::ServedTask::kEmbed;
  }
  SLUICE_ASSIGN_OR_RETURN(*pooling, read_decoder_pooling(path));
  if (rerank) return api::ServedTask::kRerank;
  const bool embed = task == "embed" || (task == "auto" && pooling->declared);
  return embed ? api::ServedTask::kEmbed : api::ServedTask::kGenerate;
}

// Loads the encoder and starts its embedding engine into ctx; an error message or "".
std::string load_embedding_model(api::ServerContext& ctx, const std::string& path,
                                 const EngineConfig& config) {
  auto model = EncoderModel::load(path);
  if (!model) return model.error();
  auto engine = EmbeddingEngine::create(**model, config);
  if (!engine) return engine.error();
  ctx.encoder = std::move(*model);
  ctx.embedder = std::move(*engine);
  ctx.ready = true;
  std::fprintf(stderr, "sluice: ready: %s model '%s', up to %d tokens per input\n",
               ctx.task == api::ServedTask::kRerank ? "rerank" : "embedding", ctx.model_id.c_str(),
               ctx.embedder->max_tokens());
  return "";
}

int serve(ServeOptions& o) {
  if (std::string error = apply_media_flags(o); !error.empty()) return fail(error);
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto config = engine_config_from(o.engine);
  if (!config) return fail(config.error());
  DecoderPooling pooling;
  auto task = served_task(*path, o.task, &pooling);
  if (!task) return fail(task.error());

  api::ServerContext ctx;
  ctx.options = o.server;
  ctx.task = *task;
  ctx.decoder_pooling = pooling;
  ctx.created = static_cast<int64_t>(std::time(nullptr));
  ctx.model_id =
      o.server.served_model_name.empty() ? default_model_id(*path) : o.server.served_model_name;
#ifdef __GLIBC__
  // glibc gives each of up to 8 x cores threads its own heap (arena); with 512 HTTP workers,
  // memory freed after large request bodies then stays spread over them and RSS only grows.
  mallopt(M_ARENA_MAX, 4);
#endif
  ctx.metrics.set_model(ctx.model_id);
  api::HttpServer server(ctx);
  if (Status s = server.bind(); !s) return fail(s.message());
  std::signal(SIGPIPE, SIG_IGN);
  // Before any thread starts (they inherit the blocked signals).
  ShutdownSignals signals([&server, timeout = o.server.shutdown_timeout_s] {
    server.drain(timeout);
    // Exit is normally instant from here; a connection stuck mid-read must not hold it up.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      std::fprintf(stderr, "sluice: exit held up by a connection; exiting now\n");
      std::_Exit(0);
    }).detach();
  });
  std::fprintf(stderr, "sluice: listening on http://%s:%d (loading %s)\n", o.server.host.c_str(),
               server.port(), path->c_str());

  int load_status = 0;
  std::atomic<bool> loader_done{false};
  std::thread loader([&] {
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag = true; }
    } done{loader_done};
    if (ctx.task != api::ServedTask::kGenerate && EncoderModel::is_encoder_dir(*path)) {
      if (std::string error = load_embedding_model(ctx, *path, *config); !error.empty()) {
        load_status = fail(error);
        server.stop_once_running(10.0);
      }
      return;
    }
    auto model = Model::load(*path);
    if (!model) {
      load_status = fail(model.error());
      server.stop_once_running(10.0);
      return;
    }
    auto engine = Engine::create(**model, *config);
    if (!engine) {
      load_status = fail(engine.error());
      server.stop_once_running(10.0);
      return;
    }
    if (ctx.task != api::ServedTask::kGenerate) {  // a decoder: last-token pooling or yes/no
      ctx.model = std::move(*model);
      ctx.engine = std::move(*engine);
      ctx.ready = true;
      std::fprintf(stderr, "sluice: ready: %s model '%s' (%s), %d tokens\n",
                   ctx.task == api::ServedTask::kEmbed ? "embedding" : "rerank",
                   ctx.model_id.c_str(),
                   ctx.task == api::ServedTask::kEmbed ? "last-token pooling" : "yes/no scores",
                   ctx.engine->max_model_len());
      return;
    }
    std::string source = (*model)->chat_template();
    if (!o.chat_template.empty()) {
      std::ifstream in(o.chat_template, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        load_status = fail("cannot read --chat-template " + o.chat_template);
        server.stop_once_running(10.0);
        return;
      }
      source = text.str();
    }
    if (!source.empty()) {
      auto tpl = ChatTemplate::parse(source);
      if (tpl)
        ctx.chat_template = std::make_unique<ChatTemplate>(std::move(*tpl));
      else
        std::fprintf(stderr,
                     "sluice: warning: the chat template does not parse (%s); chat "
                     "requests will be rejected\n",
                     tpl.error().c_str());
    }
    ctx.model = std::move(*model);
    api::configure_output_parsing(ctx);
    ctx.engine = std::move(*engine);
    ctx.ready = true;
    std::fprintf(stderr, "sluice: ready: model '%s', %lld KV tokens\n", ctx.model_id.c_str(),
                 static_cast<long long>(ctx.engine->kv_capacity_tokens()));
  });
  server.run();
  if (signals.signalled() && !loader_done) {  // a model load cannot be interrupted
    std::fprintf(stderr, "sluice: stopped while loading the model\n");
    std::_Exit(0);
  }
  loader.join();
  ctx.ready = false;
  ctx.engine.reset();  // stops the engine thread before the model goes
  ctx.embedder.reset();
  return load_status;
}

}  // namespace

Command register_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI- and Anthropic-compatible HTTP server");
  cmd->add_option("-m,--model", o->model, "GGUF file or model directory (default: built-in)");
  cmd->add_option("--task", o->task,
                  "What to serve: auto (rerank for a cross-encoder directory, embeddings for "
                  "another encoder or a decoder whose files pool the last token, else "
                  "generation), generate, embed (a decoder: last-token embeddings) or rerank "
                  "(a decoder: yes/no scores, Qwen3-Reranker style; alias: score, vLLM's name)")
      ->check(CLI::IsMember({"auto", "generate", "embed", "rerank", "score"}))
      ->capture_default_str();
  cmd->add_option("--chat-template", o->chat_template,
                  "Jinja chat template file to use instead of the model's");
  cmd->add_option("--host", o->server.host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", o->server.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--api-key", o->server.api_key, "Require this key (Bearer or x-api-key)");
  cmd->add_option("--served-model-name", o->server.served_model_name,
                  "Model id to report (default: the file name)");
  cmd->add_flag("--strict-model-id", o->server.strict_model_id,
                "Reject requests for other model ids with 404");
  cmd->add_option("--max-queued-requests", o->server.max_queued_requests,
                  "Requests in flight before 429")
      ->capture_default_str();
  cmd->add_option("--request-timeout", o->server.request_timeout_s,
                  "Abort a request after S seconds (0: never)");
  cmd->add_option("--shutdown-timeout", o->server.shutdown_timeout_s,
                  "On SIGTERM/SIGINT, seconds running requests get to finish before they are "
                  "aborted")
      ->capture_default_str();
  cmd->add_option("--cors-origins", o->server.cors_origins, "Allowed CORS origins ('*' for any)");
  cmd->add_option("--http-threads", o->server.http_threads,
                  "HTTP worker threads (each stream holds one)")
      ->capture_default_str();
  std::vector<std::string> formats = parsers::tool_format_names();
  std::string listed;
  for (const std::string& f : formats) listed += f + ", ";
  formats.insert(formats.end(), {"auto", "none"});
  cmd->add_option("--tool-call-parser", o->server.tool_call_parser,
                  "Tool-call format: auto (from the chat template), " + listed + "or none")
      ->capture_default_str()
      ->check(CLI::IsMember(formats));
  cmd->add_option("--reasoning-parser", o->server.reasoning_parser,
                  "Reasoning sections: auto (from the chat template), think (<think>...</think>), "
                  "or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "think", "none"}));
  cmd->add_option("--max-thinking-tokens", o->server.max_thinking_tokens,
                  "Default budget of a reasoning section in tokens (-1: unlimited)")
      ->capture_default_str();
  cmd->add_option("--max-output-tokens", o->server.max_output_tokens,
                  "Cap on every request's max_tokens (0: none)")
      ->capture_default_str();
  cmd->add_option("--response-store-entries", o->server.stored_responses,
                  "Responses API: stored responses kept (least recently used dropped first)")
      ->capture_default_str();
  cmd->add_option("--response-store-bytes", o->server.stored_bytes,
                  "Responses API: serialized bytes of stored responses kept")
      ->capture_default_str();
  cmd->add_option("--allowed-media-hosts", o->allowed_media_hosts,
                  "Image URL hosts exempt from the private-address check: host, host:port, an IP "
                  "or [IPv6]:port, comma-separated (e.g. localhost:9000,10.0.0.5)")
      ->delimiter(',');
  cmd->add_option("--media-path", o->server.media.media_path,
                  "Directory file:// image URLs may read from (default: file:// is refused)");
  cmd->add_option("--max-media-bytes", o->server.media.max_bytes,
                  "Largest image a request may name by URL or inline data, in bytes")
      ->capture_default_str();
  cmd->add_option("--media-timeout", o->server.media.timeout_s,
                  "Seconds one image URL may take to fetch, redirects included")
      ->capture_default_str();
  cmd->add_option("--max-images", o->server.max_images, "Image parts one request may carry")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_engine_flags(*cmd, o->engine);
  return {cmd, [o] { return serve(*o); }};
}

}  // namespace sluice
