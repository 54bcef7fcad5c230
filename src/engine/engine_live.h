#pragma once
// The engine thread's record of one live request (engine.cc and engine_images.cc).
#include <memory>
#include <vector>

#include "engine/engine.h"
#include "engine/mrope_positions.h"
#include "engine/reasoning_tracker.h"
#include "engine/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

// Engine-thread state of one request: its n sequences and their samplers, detokenizers and
// stop-string matchers.
struct Engine::Live {
  EngineRequest req;
  std::shared_ptr<RequestStream> stream;
  struct Seq {
    std::unique_ptr<Sequence> seq;
    std::unique_ptr<SequenceSampler> sampler;
    std::unique_ptr<StreamingDetokenizer> detok;
    std::unique_ptr<StopStringMatcher> stops;
    std::unique_ptr<TokenConstraint> constraint;  // null: unconstrained
    std::unique_ptr<ReasoningTracker> reasoning;
    std::vector<int32_t> forced;  // tokens to emit next instead of sampling (in reverse)
    bool finished = false;

    // Its own sampler (params.seed, else `seed`), detokenizer, stop-string matcher, constraint
    // and reasoning tracker.
    void start(const SamplingParams& params, uint64_t seed, const EngineRequest& req,
               const Tokenizer& tok) {
      sampler = std::make_unique<SequenceSampler>(params, seed, req.prompt);
      detok = std::make_unique<StreamingDetokenizer>(tok, req.skip_special_tokens);
      stops = std::make_unique<StopStringMatcher>(params.stop);
      if (req.constraint) constraint = req.constraint();
      reasoning = std::make_unique<ReasoningTracker>(req.reasoning);
    }
    // The constraint applies outside the reasoning section only.
    bool constrained() const { return constraint && !reasoning->inside(); }
  };
  std::vector<Seq> seqs;
  std::vector<ImageGrid> image_grids;  // M-RoPE models: req.images' token grids
  bool forked = false;                 // n > 1: children created after the prompt's prefill
  int32_t num_finished = 0;
  RequestStats stats;
};

}  // namespace sluice
