#pragma once
// One loaded model as a route handler sees it: the model, its engine, its chat template and
// output parsing, and the server it belongs to. The registry hands it out as a shared_ptr (a
// lease): a request (and its stream) holds one, so an unloaded model goes once they finish.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/grammar_cache.h"
#include "api/server_metrics.h"
#include "api/server_options.h"
#include "api/server_state.h"
#include "engine/embedding_engine.h"
#include "engine/engine.h"
#include "model/decoder_pooling.h"
#include "model/encoder_model.h"
#include "model/model.h"
#include "parsers/reasoning_parser.h"
#include "tokenizer/chat_template/chat_template.h"

namespace sluice::api {

// What the loaded model serves: text generation (a decoder; chat, completions, messages,
// responses), embeddings (/v1/embeddings: an encoder, or a decoder pooling its last token through
// its Engine) or rerank (/v1/rerank: a cross-encoder, or a decoder scoring yes/no). A route of
// another task is a 400.
enum class ServedTask { kGenerate, kEmbed, kRerank };

struct ModelContext : std::enable_shared_from_this<ModelContext> {
  ModelContext() = default;
  explicit ModelContext(ServerState& s) : server(&s), options(s.options) {}
  ModelContext(const ModelContext&) = delete;
  ModelContext& operator=(const ModelContext&) = delete;

  ServerState* server = nullptr;  // null only in tests of one model's parts
  ServerOptions options;          // the server's, as this model was loaded
  ServedTask task = ServedTask::kGenerate;
  std::string model_id;  // what /v1/models lists and responses echo
  // Latency and token counters; the registry's, so they outlive a reload.
  std::shared_ptr<ModelMetrics> metrics = std::make_shared<ModelMetrics>();
  std::unique_ptr<Model> model;
  std::unique_ptr<Engine> engine;               // declared after the model: stopped first
  std::unique_ptr<EncoderModel> encoder;        // tasks kEmbed, kRerank: the model, and
  std::unique_ptr<EmbeddingEngine> embedder;    // the engine that runs it
  DecoderPooling decoder_pooling;               // task kEmbed on a decoder (model, engine)
  std::unique_ptr<ChatTemplate> chat_template;  // null: the model has none
  // Output parsing, chosen once the model is loaded (configure_output_parsing).
  std::string tool_format;            // a parsers::ToolFormat name; empty: tool calls are rejected
  bool template_knows_tools = false;  // else tools go into a system message ("json" format)
  std::optional<parsers::ReasoningTags> reasoning_tags;  // none: no reasoning section
  bool harmony_prompt = false;         // the template is gpt-oss's: rendered by harmony_prompt.h
  bool template_takes_effort = false;  // the template reads `reasoning_effort`
  GrammarCache grammars;

  // Throws 400 when the route (method, path) belongs to the task this model does not serve.
  void require_task(const std::string& method, const std::string& route) const;
  // "chatcmpl-<n>" style ids, unique per server run.
  std::string new_id(const std::string& prefix) {
    return server ? server->new_id(prefix) : prefix + std::to_string(local_ids_++);
  }
  // The server's admission counter (--max-queued-requests counts every model's requests).
  std::atomic<int>& in_flight() { return server ? server->in_flight : local_in_flight_; }
  // Pictures already decoded, shared by every model (null in tests without a server).
  ImageMemo* image_memo() const { return server ? &server->image_memo : nullptr; }
  RecentDataUrls* recent_data_urls() const { return server ? &server->recent_data_urls : nullptr; }
  VideoMemo* video_memo() const { return server ? &server->video_memo : nullptr; }
  MediaCounters* media_counters() const { return server ? &server->media : nullptr; }

 private:
  std::atomic<uint64_t> local_ids_{1};
  std::atomic<int> local_in_flight_{0};
};

}  // namespace sluice::api
