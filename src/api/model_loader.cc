#include "api/model_loader.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "api/output_plan.h"

namespace sluice::api {

Result<ServedTask> served_task(const std::string& path, const std::string& task,
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
    return cross ? ServedTask::kRerank : ServedTask::kEmbed;
  }
  SLUICE_ASSIGN_OR_RETURN(*pooling, read_decoder_pooling(path));
  if (rerank) return ServedTask::kRerank;
  const bool embed = task == "embed" || (task == "auto" && pooling->declared);
  return embed ? ServedTask::kEmbed : ServedTask::kGenerate;
}

namespace {

Result<std::string> read_file(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::error("serve", "cannot read " + flag + " " + path);
  return text.str();
}

// The chat template (the file's, or the model's own) and the output parsing it implies.
void set_chat_template(ModelContext& ctx, const std::string& source) {
  if (!source.empty()) {
    auto tpl = ChatTemplate::parse(source);
    if (tpl)
      ctx.chat_template = std::make_unique<ChatTemplate>(std::move(*tpl));
    else
      std::fprintf(stderr,
                   "sluice: warning: the chat template of '%s' does not parse (%s); chat "
                   "requests will be rejected\n",
                   ctx.model_id.c_str(), tpl.error().c_str());
  }
  configure_output_parsing(ctx);
}

}  // namespace

Result<ModelLease> load_model(ServerState& server, const ModelSpec& spec,
                              const ModelLoadOptions& options) {
  auto ctx = std::make_shared<ModelContext>(server);
  ctx->model_id = spec.id;
  SLUICE_ASSIGN_OR_RETURN(ctx->task, served_task(spec.path, options.task, &ctx->decoder_pooling));
  EngineConfig config = options.engine;
  if (!spec.mmproj.empty()) config.mmproj = spec.mmproj;
  if (ctx->task != ServedTask::kGenerate && EncoderModel::is_encoder_dir(spec.path)) {
    SLUICE_ASSIGN_OR_RETURN(ctx->encoder, EncoderModel::load(spec.path));
    SLUICE_ASSIGN_OR_RETURN(ctx->embedder, EmbeddingEngine::create(*ctx->encoder, config));
    std::fprintf(stderr, "sluice: ready: %s model '%s', up to %d tokens per input\n",
                 ctx->task == ServedTask::kRerank ? "rerank" : "embedding", spec.id.c_str(),
                 ctx->embedder->max_tokens());
    return ModelLease(std::move(ctx));
  }
  SLUICE_ASSIGN_OR_RETURN(ctx->model, Model::load(spec.path, optional_dtypes_for(config.device)));
  SLUICE_ASSIGN_OR_RETURN(ctx->engine, Engine::create(*ctx->model, config));
  if (ctx->task != ServedTask::kGenerate) {  // a decoder: last-token pooling or yes/no
    std::fprintf(stderr, "sluice: ready: %s model '%s' (%s), %d tokens\n",
                 ctx->task == ServedTask::kEmbed ? "embedding" : "rerank", spec.id.c_str(),
                 ctx->task == ServedTask::kEmbed ? "last-token pooling" : "yes/no scores",
                 ctx->engine->max_model_len());
    return ModelLease(std::move(ctx));
  }
  std::string source = ctx->model->chat_template();
  if (!options.chat_template.empty()) {
    SLUICE_ASSIGN_OR_RETURN(source, read_file(options.chat_template, "--chat-template"));
  }
  set_chat_template(*ctx, source);
  std::fprintf(stderr, "sluice: ready: model '%s' on %s, %lld KV tokens\n", spec.id.c_str(),
               ctx->engine->device_name().c_str(),
               static_cast<long long>(ctx->engine->kv_capacity_tokens()));
  return ModelLease(std::move(ctx));
}

}  // namespace sluice::api
