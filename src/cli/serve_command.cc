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
#include "api/model_loader.h"
#include "api/model_registry.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/engine_flags.h"
#include "cli/model_catalog.h"
#include "cli/serve_profiles.h"
#include "cli/shutdown_signals.h"
#include "parsers/tool_parser.h"

namespace sluice {

namespace {

struct ServeOptions {
  std::string profile;        // applied to the command line before parsing (serve_profiles.h)
  bool print_config = false;  // print the options and exit
  CatalogFlags catalog;
  api::RegistryLimits limits;
  std::string models_memory;  // --models-memory: bytes; empty: no limit
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

// What one loaded model takes beyond its files, for --models-memory: its KV budget.
int64_t per_model_bytes(const EngineConfig& c) {
  if (c.kv_cache_bytes > 0) return c.kv_cache_bytes;
  return static_cast<int64_t>(c.kv_cache_fraction * static_cast<double>(physical_ram_bytes()));
}

// True while any model is still loading (a load cannot be interrupted).
bool loading(const api::ModelRegistry& models) {
  for (const auto& s : models.list())
    if (s.state == api::ModelState::kLoading) return true;
  return false;
}

int serve(ServeOptions& o) {
  if (std::string error = apply_media_flags(o); !error.empty()) return fail(error);
  o.catalog.mmproj = o.engine.config.mmproj;
  o.catalog.served_model_name = o.server.served_model_name;
  auto specs = model_catalog(o.catalog);
  if (!specs) return fail(specs.error());
  auto config = engine_config_from(o.engine);
  if (!config) return fail(config.error());
  config->mmproj.clear();  // each model's own (ModelSpec::mmproj)
  if (!o.models_memory.empty()) {
    auto bytes = parse_byte_size(o.models_memory, "--models-memory");
    if (!bytes) return fail(bytes.error());
    o.limits.memory_bytes = *bytes;
  }
  o.limits.per_model_bytes = per_model_bytes(*config);
  o.limits.strict_ids = o.server.strict_model_id;
  const bool lone = specs->size() == 1;  // loaded at start; its failure stops the server

  api::ServerState state;
  state.options = o.server;
  state.created = static_cast<int64_t>(std::time(nullptr));
  const api::ModelLoadOptions load{*config, o.chat_template, o.task};
  state.models = std::make_unique<api::ModelRegistry>(
      *specs, o.limits,
      [&state, load](const api::ModelSpec& spec) { return api::load_model(state, spec, load); });
#ifdef __GLIBC__
  // glibc gives each of up to 8 x cores threads its own heap (arena); with 512 HTTP workers,
  // memory freed after large request bodies then stays spread over them and RSS only grows.
  mallopt(M_ARENA_MAX, 4);
#endif
  api::HttpServer server(state);
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
  std::string names;
  for (const api::ModelSpec& s : *specs) names += (names.empty() ? "" : ", ") + s.id;
  std::fprintf(stderr, "sluice: listening on http://%s:%d (%s %s)\n", o.server.host.c_str(),
               server.port(),
               lone ? "loading" : "models:", lone ? specs->front().path.c_str() : names.c_str());

  int load_status = 0;
  std::thread starter;
  if (lone) {  // as a one-model server always did: /health says 503 until the model is up
    starter = std::thread([&] {
      const std::string id = specs->front().id;
      state.models->try_acquire(id);
      std::string error;
      while (state.models->wait_loaded(id, 3600, &error) == api::ModelState::kLoading) {
      }
      if (state.models->status(id)->state == api::ModelState::kLoaded) {
        state.ready = true;
        return;
      }
      load_status = fail(error);
      server.stop_once_running(10.0);
    });
  } else {
    state.ready = true;
  }
  server.run();
  if (signals.signalled() && loading(*state.models)) {  // a model load cannot be interrupted
    std::fprintf(stderr, "sluice: stopped while loading a model\n");
    std::_Exit(0);
  }
  if (starter.joinable()) starter.join();
  state.ready = false;
  state.models.reset();  // stops every engine thread before its model goes
  return load_status;
}

}  // namespace

Command register_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI- and Anthropic-compatible HTTP server");
  cmd->add_option("-m,--model", o->catalog.models,
                  "GGUF file or model directory (default: built-in); NAME=PATH names it. "
                  "Repeat to serve several models (requests pick one by name)");
  cmd->add_option("--models-dir", o->catalog.models_dir,
                  "Serve every GGUF file and model directory in DIR, named by file stem or folder "
                  "name (a sibling mmproj-NAME.gguf is attached); loaded on first use");
  cmd->add_option("--max-loaded-models", o->limits.max_loaded,
                  "Models loaded at once; loading another unloads the least recently used idle "
                  "one (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--models-memory", o->models_memory,
                  "Memory for loaded models (file size + KV budget each, e.g. 16GiB); beyond it "
                  "the least recently used idle model is unloaded (default: no limit)");
  cmd->add_option("--idle-unload", o->limits.idle_unload_s,
                  "Unload a model nobody used for S seconds (0: never)")
      ->capture_default_str();
  cmd->add_option("--load-timeout", o->limits.load_timeout_s,
                  "Seconds a request waits for its model to load (streamed requests get SSE "
                  "comments meanwhile)")
      ->capture_default_str();
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
  cmd->add_option("--max-images", o->server.max_images,
                  "Images one request may carry, a video's sampled frames included")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  api::VideoOptions& video = o->server.video;
  cmd->add_option("--video-fps", video.fps, "Frames sampled per second of a video_url part")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--video-max-frames", video.max_frames,
                  "Most frames taken from one video (past it, spread evenly over its duration)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--video-max-duration", video.max_duration_s,
                  "Longest video a request may send, in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-video-bytes", video.max_bytes,
                  "Largest video a request may name by URL or inline data, in bytes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--video-timeout", video.decode_timeout_s,
                  "Seconds one video may take to demux and decode (fetching not counted)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_engine_flags(*cmd, o->engine);
  std::string profiles = "Named flag sets (explicit flags win):";
  std::vector<std::string> names;
  for (const ServeProfile& p : serve_profiles()) {
    profiles += " " + p.name + " (" + p.summary + ");";
    names.push_back(p.name);
  }
  cmd->add_option("--profile", o->profile, profiles)->check(CLI::IsMember(names));
  cmd->add_flag("--print-config", o->print_config,
                "Print every serve option's value (after --profile) and exit");
  return {cmd, [o, cmd] {
            if (o->print_config) {
              std::string text = cmd->config_to_str(true, false);
              if (!o->server.api_key.empty()) {  // never echo the secret
                const size_t at = text.find("api-key=\"");
                if (at != std::string::npos)
                  text.replace(at, text.find('\n', at) - at, "api-key=\"(set)\"");
              }
              std::printf("%s", text.c_str());
              return 0;
            }
            return serve(*o);
          }};
}

}  // namespace sluice
