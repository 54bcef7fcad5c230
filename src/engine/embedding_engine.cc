#include "engine/embedding_engine.h"

#include <algorithm>

namespace sluice {

struct EmbeddingEngine::Pending {
  uint64_t id = 0;
  std::vector<EmbeddingSequence> seqs;
  EmbeddingResult result;
  size_t num_done = 0;
  std::promise<RequestResult<EmbeddingResult>> promise;
};

Result<std::unique_ptr<EmbeddingEngine>> EmbeddingEngine::create(const EncoderModel& model,
                                                                 const EngineConfig& asked) {
  if (Status s = asked.validate(); !s) return s;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend,
                          make_backend(asked.device, asked.num_threads));
  EngineConfig config = asked;
  if (config.max_num_batched_tokens == 0)
    config.max_num_batched_tokens = default_step_tokens(backend->host_resident());
  if (config.deterministic && !backend->set_batch_invariant(true))
    return Status::error("engine", "--deterministic: the " + backend->name() +
                                       " backend has no batch-invariant kernels");
  return std::unique_ptr<EmbeddingEngine>(new EmbeddingEngine(model, config, std::move(backend)));
}

EmbeddingEngine::EmbeddingEngine(const EncoderModel& model, const EngineConfig& config,
                                 std::unique_ptr<Backend> backend)
    : model_(model), config_(config), backend_(std::move(backend)) {
  runner_ = std::make_unique<EncoderRunner>(model, *backend_);  // places the weights
  scheduler_ =
      std::make_unique<EmbeddingScheduler>(config.max_num_batched_tokens, config.max_num_seqs);
  thread_ = std::thread([this] { loop(); });
}

EmbeddingEngine::~EmbeddingEngine() {
  shut_down();
}

void EmbeddingEngine::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RequestResult<std::future<RequestResult<EmbeddingResult>>> EmbeddingEngine::submit(
    EmbeddingRequest request) {
  const EncoderConfig& c = model_.config();
  if (request.inputs.empty()) return RequestError::invalid("input", "input must not be empty");
  auto p = std::make_unique<Pending>();
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    EncoderSequence& in = request.inputs[i];
    const std::string which =
        request.inputs.size() > 1 ? "input[" + std::to_string(i) + "]" : "input";
    if (in.ids.empty()) return RequestError::invalid("input", which + " has no tokens");
    if (static_cast<int64_t>(in.ids.size()) > c.max_tokens)
      return RequestError::invalid("input", which + " has " + std::to_string(in.ids.size()) +
                                                " tokens; this model's maximum input length is " +
                                                std::to_string(c.max_tokens) + " tokens");
    for (int32_t id : in.ids)
      if (id < 0 || id >= c.vocab_size)
        return RequestError::invalid("input", which + ": token id " + std::to_string(id) +
                                                  " is out of range [0, " +
                                                  std::to_string(c.vocab_size) + ")");
    for (int32_t t : in.type_ids)
      if (t < 0 || t >= c.type_vocab_size)
        return RequestError::invalid("input", which + ": token type id out of range");
    p->result.num_tokens += static_cast<int64_t>(in.ids.size());
    p->seqs.push_back(EmbeddingSequence{std::move(in), 0, i});
  }
  p->result.vectors.resize(p->seqs.size());
  auto future = p->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_)
      return RequestError{RequestErrorKind::kUnavailable, "", "the engine is shutting down"};
    p->id = next_id_++;
    for (EmbeddingSequence& s : p->seqs) s.request = p->id;
    inbox_.push_back(std::move(p));
  }
  cv_.notify_one();
  return future;
}

void EmbeddingEngine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !inbox_.empty() || scheduler_->num_waiting() > 0; });
      if (stop_) break;
      for (auto& p : inbox_) {
        for (EmbeddingSequence& s : p->seqs) scheduler_->add(&s);
        live_.push_back(std::move(p));
      }
      inbox_.clear();
    }
    const std::vector<EmbeddingSequence*> seqs = scheduler_->schedule();
    if (!seqs.empty()) step(seqs);
  }
  const RequestError gone{RequestErrorKind::kUnavailable, "", "the engine shut down"};
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : live_) p->promise.set_value(gone);
  for (auto& p : inbox_) p->promise.set_value(gone);
  live_.clear();
  inbox_.clear();
}

// One forward over the scheduled sequences; a request whose last sequence ran is answered.
void EmbeddingEngine::step(const std::vector<EmbeddingSequence*>& seqs) {
  std::vector<const EncoderSequence*> inputs;
  for (const EmbeddingSequence* s : seqs) inputs.push_back(&s->input);
  const std::vector<float> out = runner_->embed(inputs);
  const size_t hidden = static_cast<size_t>(model_.config().output_dim());
  for (size_t i = 0; i < seqs.size(); ++i) {
    auto it = std::find_if(live_.begin(), live_.end(),
                           [&](const auto& p) { return p->id == seqs[i]->request; });
    Pending& p = **it;
    p.result.vectors[seqs[i]->index].assign(out.begin() + i * hidden,
                                            out.begin() + (i + 1) * hidden);
    if (++p.num_done == p.seqs.size()) {
      p.promise.set_value(std::move(p.result));
      live_.erase(it);
    }
  }
}

}  // namespace sluice
