#pragma once
// What every route handler shares: options, the model (once loaded), the engine, metrics, and
// the admission counter behind --max-queued-requests.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/grammar_cache.h"
#include "api/media/image_memo.h"
#include "api/responses/response_store.h"
#include "api/server_metrics.h"
#include "api/server_options.h"
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

struct ServerContext {
  ServerOptions options;
  ServedTask task = ServedTask::kGenerate;
  std::string model_id;  // what /v1/models lists and responses echo
  int64_t created = 0;   // unix time the server started
  std::unique_ptr<Model> model;
  std::unique_ptr<Engine> engine;
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
  mutable ImageMemo image_memo;  // content hashes of pictures already decoded
  ResponseStore responses;       // the Responses API's stored responses (store: true)
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};  // graceful shutdown: new requests and /health get 503
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> next_id{1};
  ServerMetrics metrics;

  // Throws 503 until the model is loaded, and once the server is shutting down.
  void require_ready() const {
    if (draining.load()) throw ApiError(ErrorKind::kUnavailable, "the server is shutting down");
    if (!ready.load()) throw ApiError(ErrorKind::kUnavailable, "the model is still loading");
  }
  // Throws 400 when the route (method, path) belongs to the task this model does not serve.
  void require_task(const std::string& method, const std::string& route) const;
  // Throws 404 model_not_found under --strict-model-id when `requested` is not ours.
  void check_model(const std::string& requested) const;
  // "chatcmpl-<n>" style ids, unique per server run.
  std::string new_id(const std::string& prefix) { return prefix + std::to_string(next_id++); }
};

}  // namespace sluice::api
