#pragma once
// What the engine's clients (HTTP workers, `sluice run`) exchange with it: a native request in, a
// stream of per-step outputs back. No JSON here.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "engine/sampling_params.h"
#include "engine/token_constraint.h"

namespace sluice {

enum class FinishReason { kStop, kLength, kAbort, kError };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "abort", "error"

// One step's news for one of the request's n sequences.
struct SequenceDelta {
  int32_t index = 0;                   // which of the n completions
  std::vector<int32_t> token_ids;      // tokens sampled this step (usually one)
  std::string text;                    // newly safe-to-show text (stop strings held back)
  std::vector<SampleOutput> logprobs;  // per token, when requested
  std::optional<FinishReason> finish_reason;
  std::string stop_reason;  // the stop string or "token:<id>" that ended it
};

struct RequestStats {
  int32_t num_prompt_tokens = 0;
  int32_t num_cached_tokens = 0;  // prompt tokens served from the prefix cache (first schedule)
  int32_t num_output_tokens = 0;  // over all n sequences
  int64_t num_computed_tokens =
      0;  // tokens run through the model for this request (incl. recompute)
  int32_t num_preemptions = 0;
  std::chrono::steady_clock::time_point arrival, first_token, finished;
};

struct RequestOutput {
  std::vector<SequenceDelta> deltas;
  std::vector<float> prompt_output;  // a prompt-only request's vector (PromptOutput), at the end
  bool finished = false;             // every sequence has finished; stats are final
  std::string error;  // set with finished when the engine rejected or failed the request
  RequestStats stats;
};

// Single-producer (engine thread) / single-consumer queue of outputs for one request.
class RequestStream {
 public:
  void push(RequestOutput out);
  // Blocks until an output is available (or the deadline passes: nullopt).
  std::optional<RequestOutput> next(std::chrono::steady_clock::time_point deadline =
                                        std::chrono::steady_clock::time_point::max());

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RequestOutput> queue_;
};

// What a request returns: generated tokens, or one vector from its prompt alone (prefill only,
// nothing sampled; vLLM's pooling requests): the last prompt token's final-norm hidden state
// [hidden], or that position's logits of `logit_ids` [logit_ids.size()].
enum class PromptOutput { kGenerate, kLastHidden, kLastLogits };

// An image in the prompt: the vision tower's output for `pixels` replaces the embeddings of
// prompt tokens [offset, offset + num_tokens) (its placeholder tokens). A video clip for a tower
// that takes_video() is one such input of num_frames frames (Qwen3-VL: one per temporal patch).
struct ImageInput {
  int32_t offset = 0, num_tokens = 0;
  uint64_t hash_lo = 0, hash_hi = 0;  // content hash of the decoded picture (the cache key); a
                                      // clip's: of its frames' hashes, sizes and timing
  int32_t height = 0, width = 0;      // of the pixels, as the model's processor sizes them
  int32_t num_frames = 0;             // a clip's frames (>= 1); 0: a still image
  double frame_interval_s = 0;        // a clip's seconds from one frame to the next (> 0)
  // Makes the normalized pixels [3, height, width] (a clip: [num_frames, 3, height, width]):
  // called by the engine only when the rows are in neither the prefix nor the encoder cache (so
  // maybe never, maybe more than once).
  std::function<std::vector<float>()> pixels;

  bool is_video() const { return num_frames > 0; }
};

struct EngineRequest {
  std::string id;               // unique among live requests
  std::vector<int32_t> prompt;  // token ids
  SamplingParams params;
  std::string cache_salt;  // extra prefix-cache key (tenant isolation)
  bool skip_special_tokens = true;
  TokenConstraintFactory constraint;  // empty: unconstrained
  ReasoningControl reasoning;
  PromptOutput output = PromptOutput::kGenerate;  // not kGenerate: params.n must be 1
  std::vector<int32_t> logit_ids;                 // kLastLogits: the token ids to return
  std::vector<ImageInput> images;                 // sorted by offset, not overlapping
};

}  // namespace sluice
