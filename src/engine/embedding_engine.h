#pragma once
// The embedding engine: one thread that owns an encoder on its backend and runs one forward per
// step over whole sequences from every queued request (EmbeddingScheduler). Clients submit from
// any thread and wait on the returned future. Beside Engine rather than inside it: an encoder
// keeps no KV cache, samples nothing and finishes each sequence in the step that runs it.
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "common/status.h"
#include "engine/embedding_scheduler.h"
#include "engine/engine_config.h"
#include "engine/request_error.h"
#include "model/encoder_model.h"
#include "model/encoder_runner.h"

namespace sluice {

struct EmbeddingRequest {
  std::vector<EncoderSequence> inputs;  // token ids with their special tokens
};

struct EmbeddingResult {
  std::vector<std::vector<float>> vectors;  // one per input, in order
  int64_t num_tokens = 0;                   // over all inputs
};

class EmbeddingEngine {
 public:
  // The model must outlive the engine.
  static Result<std::unique_ptr<EmbeddingEngine>> create(const EncoderModel& model,
                                                         const EngineConfig& config);
  ~EmbeddingEngine();  // shut_down()

  // Validates the inputs and queues them. Refused: kInvalidParameter "input" (no inputs, an
  // empty one, one longer than max_tokens(), a token id outside the vocabulary), kUnavailable
  // once shutting down. The future fails with kUnavailable when the engine stops first.
  RequestResult<std::future<RequestResult<EmbeddingResult>>> submit(EmbeddingRequest request);
  void shut_down();

  int32_t max_tokens() const { return static_cast<int32_t>(model_.config().max_tokens); }
  const EncoderModel& model() const { return model_; }

 private:
  struct Pending;  // a request's sequences, results and promise
  EmbeddingEngine(const EncoderModel& model, const EngineConfig& config,
                  std::unique_ptr<Backend> backend);
  void loop();
  void step(const std::vector<EmbeddingSequence*>& seqs);

  const EncoderModel& model_;
  EngineConfig config_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<EncoderRunner> runner_;
  std::unique_ptr<EmbeddingScheduler> scheduler_;  // engine thread only
  std::vector<std::unique_ptr<Pending>> live_;     // engine thread only

  std::mutex mu_;  // guards inbox_, stop_, next_id_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Pending>> inbox_;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::thread thread_;
};

}  // namespace sluice
