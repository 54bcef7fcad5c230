#include "engine/engine.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "common/assert.h"
#include "common/env.h"
#include "common/profile.h"
#include "engine/engine_live.h"
#include "engine/engine_vision.h"
#include "model/arch/arch_spec.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace {
using Clock = std::chrono::steady_clock;
}

Result<std::unique_ptr<Engine>> Engine::create(const Model& model, const EngineConfig& asked) {
  if (Status s = asked.validate(); !s) return s;
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<Backend> backend,
      make_backend(asked.device, asked.num_threads, asked.cpu_int8_activations));
  EngineConfig config = asked;
  if (config.max_num_batched_tokens == 0)
    config.max_num_batched_tokens = default_step_tokens(backend->host_resident());
  if (Status s = apply_kv_cache_dtype(config.kv_cache_dtype, *backend); !s) return s;
  if (config.deterministic && !backend->set_batch_invariant(true))
    return Status::error("engine", "--deterministic: the " + backend->name() +
                                       " backend has no batch-invariant kernels");
  if (model.config().sliding_window > 0 && !backend->supports_window())
    return Status::error("engine", model.config().arch->name +
                                       " has sliding-window attention layers, which the " +
                                       backend->name() + " backend does not run yet");
  auto runner = std::make_unique<ModelRunner>(model, *backend);  // places the weights
  const ModelConfig& c = model.config();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<VisionTower> vision,
                          load_engine_vision(model, config, *backend));
  KvLayout layout = KvLayout::of(c, config.release_window_blocks);
  const int64_t block_bytes = KvStorage::bytes_per_block(
      layout.pages_per_block, config.block_size, c.num_kv_heads, c.head_dim, backend->kv_dtype());
  int64_t budget = config.kv_cache_bytes;
  if (budget <= 0 && !backend->host_resident()) {
    // What the weights left, less the share kept free and room for activations and logits
    // (plus a row of staged values per sampled sequence: Backend::sample_rows).
    const double keep =
        (1.0 - config.gpu_memory_utilization) * static_cast<double>(backend->total_memory());
    const double activations = 1.5 * double(1 << 30) + static_cast<double>(config.max_num_seqs) *
                                                           static_cast<double>(c.vocab_size) * 4.0;
    budget = static_cast<int64_t>(
        std::max(0.0, static_cast<double>(backend->free_memory()) - keep - activations));
  } else if (budget <= 0) {
    const double ram = static_cast<double>(physical_ram_bytes());
    budget = static_cast<int64_t>(ram * config.kv_cache_fraction);
  }
  // Hybrid models: the budget also holds a recurrent state per running sequence (and a scratch
  // one), and the prefix snapshots of it.
  StatePlan states;
  if (c.hybrid()) {
    const int64_t slot_bytes = StateStorage::bytes_per_slot(c);
    const int64_t snapshot_bytes = !config.enable_prefix_caching   ? 0
                                   : config.state_cache_bytes >= 0 ? config.state_cache_bytes
                                                                   : budget / 8;
    states.num_live = config.max_num_seqs;
    states.num_snapshots = snapshot_bytes / slot_bytes;
    const int64_t bytes = (states.num_live + 1 + states.num_snapshots) * slot_bytes;
    if (bytes >= budget)
      return Status::error("engine", "the recurrent state of " + std::to_string(states.num_live) +
                                         " sequences and " + std::to_string(states.num_snapshots) +
                                         " snapshots needs " + std::to_string(bytes) +
                                         " bytes of the KV budget's " + std::to_string(budget) +
                                         "; raise --kv-cache-memory or lower --max-num-seqs / "
                                         "--state-cache-memory");
    budget -= bytes;
  }
  const int64_t num_blocks = budget / block_bytes;  // block 0 is the null block
  if (num_blocks < 2)
    return Status::error("engine", "--kv-cache-memory holds " + std::to_string(num_blocks) +
                                       " KV blocks of " + std::to_string(block_bytes) +
                                       " bytes; at least 2 are needed");
  if (num_blocks > INT32_MAX) return Status::error("engine", "--kv-cache-memory is too large");
  return std::unique_ptr<Engine>(new Engine(model, config, std::move(backend), std::move(runner),
                                            std::move(vision), std::move(layout), num_blocks,
                                            states));
}

Engine::Engine(const Model& model, const EngineConfig& config, std::unique_ptr<Backend> backend,
               std::unique_ptr<ModelRunner> runner, std::unique_ptr<VisionTower> vision,
               KvLayout layout, int64_t num_blocks, StatePlan states)
    : model_(model),
      config_(config),
      backend_(std::move(backend)),
      runner_(std::move(runner)),
      vision_(std::move(vision)) {
  if (vision_) encoder_cache_ = std::make_unique<EncoderCache>(config.encoder_cache_bytes);
  const ModelConfig& c = model.config();
  max_model_len_ = config.max_model_len > 0 ? config.max_model_len
                                            : static_cast<int32_t>(c.max_position_embeddings);
  const std::vector<int32_t> windows = layout.group_windows;
  kv_storage_ = std::make_unique<KvStorage>(*backend_, std::move(layout), num_blocks,
                                            config.block_size, c.num_kv_heads, c.head_dim);
  if (c.hybrid()) {
    kv_storage_->attach_state(
        std::make_unique<StateStorage>(*backend_, c, states.num_live + states.num_snapshots));
    state_pool_ = std::make_unique<kv::StatePool>(static_cast<int32_t>(states.num_live),
                                                  static_cast<int32_t>(states.num_snapshots));
  }
  if (!backend_->host_resident()) {  // SLUICE_WARM_UP_LARGE=0: no full-step warm-up (A/B)
    const bool full = env::enabled(env::Switch::kWarmUpLarge);
    runner_->warm_up(*kv_storage_,
                     full ? std::min(config.max_num_batched_tokens, max_model_len_) : 32);
  }
  kv_ = std::make_unique<kv::KvCacheManager>(static_cast<int32_t>(num_blocks), config.block_size,
                                             config.enable_prefix_caching, windows);
  kv_capacity_tokens_ = longest_sequence_that_fits();
  SchedulerConfig sc{config.max_num_batched_tokens, config.max_num_seqs};
  sc.snapshot_interval_blocks = config.state_snapshot_interval;
  // Qwen2-VL's image tokens attend causally: a prefill chunk may end inside an image.
  sc.whole_images = !(vision_ && vision_->dynamic_resolution());
  scheduler_ = std::make_unique<Scheduler>(sc, *kv_, state_pool_.get());
  seed_rng_.seed(config.seed != 0 ? config.seed : std::random_device{}());
  eog_ids_ = model.tokenizer().eog_ids();
  publish_metrics();  // before any step
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  shut_down();
}

void Engine::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t Engine::kv_capacity_tokens() const {
  return kv_capacity_tokens_;
}

// The longest sequence that fits the pool alone (the most blocks it holds at once grows with its
// length: bisect); with sliding-window layers only, any length.
int64_t Engine::longest_sequence_that_fits() const {
  const int64_t usable = kv_storage_->num_blocks() - 1, step = config_.max_num_batched_tokens;
  int64_t lo = 0, hi = INT32_MAX;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (kv_->max_blocks_held(mid, step) <= usable)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

RequestResult<std::shared_ptr<RequestStream>> Engine::submit(EngineRequest req) {
  using E = RequestError;
  const int32_t vocab = static_cast<int32_t>(model_.config().vocab_size);
  if (auto error = req.params.validate(vocab)) return *error;
  if (req.prompt.empty()) return E::invalid("prompt", "the prompt is empty");
  for (int32_t t : req.prompt)
    if (t < 0 || t >= vocab)
      return E::invalid("prompt", "prompt token id " + std::to_string(t) + " is out of range");
  const bool prompt_only = req.output != PromptOutput::kGenerate;
  if (prompt_only && req.params.n != 1)
    return E::invalid("n", "a prompt-only request has one output (n must be 1)");
  if (req.output == PromptOutput::kLastLogits && req.logit_ids.empty())
    return E::invalid("logit_ids", "no token ids to return the logits of");
  for (int32_t t : req.logit_ids)
    if (t < 0 || t >= vocab)
      return E::invalid("logit_ids", "token id " + std::to_string(t) + " is out of range");
  if (auto error = validate_images(req)) return *error;
  // A prompt-only request computes its prompt alone: max_tokens does not apply.
  const int64_t total =
      static_cast<int64_t>(req.prompt.size()) + (prompt_only ? 0 : req.params.max_tokens);
  const std::string what = prompt_only ? "the prompt (" + std::to_string(total) + " tokens)"
                                       : "prompt (" + std::to_string(req.prompt.size()) +
                                             " tokens) + max_tokens (" +
                                             std::to_string(req.params.max_tokens) + ")";
  if (total > max_model_len_)
    return E::invalid("prompt",
                      what + " exceeds the context length " + std::to_string(max_model_len_));
  if (total > kv_capacity_tokens())
    return E::invalid("prompt", what + " exceeds the KV cache capacity of " +
                                    std::to_string(kv_capacity_tokens()) + " tokens");
  auto stream = std::make_shared<RequestStream>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return E{RequestErrorKind::kUnavailable, "", "the engine is shutting down"};
    if (!ids_.emplace(req.id, true).second)
      return E{RequestErrorKind::kInternal, "id", "duplicate request id '" + req.id + "'"};
    inbox_.emplace_back(std::move(req), stream);
  }
  cv_.notify_one();
  return stream;
}

void Engine::abort(const std::string& request_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ids_.count(request_id)) return;
    aborts_.push_back(request_id);
  }
  cv_.notify_one();
}

EngineMetrics Engine::metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || !inbox_.empty() || !aborts_.empty() || scheduler_->has_work();
      });
      if (stop_) break;
    }
    const auto t0 = Clock::now();
    admit_and_abort();
    SchedulerOutput out = scheduler_->schedule();
    const auto t1 = Clock::now();
    if (!out.empty()) step(out);
    const auto t2 = Clock::now();
    // On a device backend with more steps to come, the outputs go while the next step runs
    // there (step() sends them once its forward is issued): the GPU need not wait for the
    // consumers' wake-ups.
    if (out.empty() || backend_->host_resident() || !scheduler_->has_work()) send_outputs();
    if (profile::enabled()) {
      profile::add("engine admit+schedule", std::chrono::duration<double>(t1 - t0).count());
      profile::add("engine publish+flush",
                   std::chrono::duration<double>(Clock::now() - t2).count());
    }
  }
  // Shutdown: every request ends with "abort", those still in the inbox too.
  admit_and_abort();
  for (auto& [id, r] : live_) abort_request(*r);
  flush_outbox();
}

// Ends every unfinished sequence of the request with "abort"; its blocks return to the pool. With
// n > 1 before the fork, the children never started and get no delta.
void Engine::abort_request(Live& r) {
  std::vector<SequenceDelta> deltas;
  for (size_t i = 0; i < r.seqs.size(); ++i) {
    if (r.seqs[i].finished) continue;
    scheduler_->remove(r.seqs[i].seq.get());
    r.seqs[i].finished = true;
    SequenceDelta d;
    d.index = static_cast<int32_t>(i);
    d.finish_reason = FinishReason::kAbort;
    deltas.push_back(std::move(d));
  }
  finish_request(r, deltas);
}

// Outputs go out after the metrics are published, so a client that saw its request finish
// also sees the engine state after it.
void Engine::send_outputs() {
  publish_metrics();
  flush_outbox();
}

void Engine::flush_outbox() {
  for (auto& [stream, out] : outbox_) stream->push(std::move(out));
  outbox_.clear();
}

void Engine::admit_and_abort() {
  std::vector<std::pair<EngineRequest, std::shared_ptr<RequestStream>>> inbox;
  std::vector<std::string> aborts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox.swap(inbox_);
    aborts.swap(aborts_);
  }
  const Tokenizer& tok = model_.tokenizer();
  for (auto& [req, stream] : inbox) {
    auto r = std::make_unique<Live>();
    r->stream = std::move(stream);
    r->stats.arrival = Clock::now();
    r->stats.num_prompt_tokens = static_cast<int32_t>(req.prompt.size());
    r->req = std::move(req);
    Live::Seq s;
    s.seq = std::make_unique<Sequence>();
    s.seq->id = next_seq_id_++;
    s.seq->tokens = r->req.prompt;
    s.seq->num_prompt_tokens = static_cast<int32_t>(r->req.prompt.size());
    s.seq->root_hash = kv::root_hash(r->req.cache_salt);
    for (const ImageInput& im : r->req.images)
      s.seq->media.push_back({im.offset, im.num_tokens, im.hash_lo, im.hash_hi});
    if (model_.config().mrope() && vision_) r->image_grids = image_grids(r->req);
    s.seq->owner = r.get();
    const uint64_t seed = r->req.params.seed ? *r->req.params.seed : seed_rng_();
    s.start(r->req.params, seed, r->req, tok);
    scheduler_->add(s.seq.get());
    r->seqs.push_back(std::move(s));
    totals_.prompt_tokens += r->stats.num_prompt_tokens;
    live_[r->req.id] = std::move(r);
  }
  for (const std::string& id : aborts) {
    auto it = live_.find(id);
    if (it == live_.end()) continue;
    abort_request(*it->second);
    live_.erase(it);
  }
}

void Engine::step(const SchedulerOutput& out) {
  const auto t_start = Clock::now();
  // One flattened batch over every scheduled token.
  ForwardBatch b;
  const int32_t bs = config_.block_size;
  const int64_t groups = kv_->num_groups(), num_seqs = static_cast<int64_t>(out.scheduled.size());
  int64_t max_blocks = 1;  // every group's table of a sequence is as long
  for (const ScheduledSequence& s : out.scheduled)
    max_blocks = std::max<int64_t>(max_blocks, kv_->block_table(s.seq->id).size());
  b.max_blocks_per_seq = max_blocks;
  b.num_kv_groups = groups;
  b.block_tables.assign(groups * num_seqs * max_blocks, 0);  // padded with the null block
  b.slot_mapping.resize(groups * out.num_tokens);
  b.query_start.push_back(0);
  const bool mrope = model_.config().mrope();
  std::array<std::vector<int32_t>, 4> rope_planes;  // M-RoPE: t, h, w, e of every token
  std::vector<const ScheduledSequence*> sampled;    // sequences whose last token is in this step
  for (int64_t i = 0; i < num_seqs; ++i) {
    const ScheduledSequence& s = out.scheduled[i];
    const Sequence& q = *s.seq;
    const int64_t first = static_cast<int64_t>(b.tokens.size());
    for (int32_t p = q.num_computed; p < q.num_computed + s.num_new_tokens; ++p) {
      b.tokens.push_back(q.tokens[p]);
      b.positions.push_back(p);
    }
    if (mrope)
      append_mrope_positions(static_cast<const Live*>(q.owner)->image_grids, q.num_computed,
                             q.num_computed + s.num_new_tokens, rope_planes);
    for (int64_t g = 0; g < groups; ++g) {
      const std::vector<kv::BlockId>& table = kv_->block_table(q.id, static_cast<int32_t>(g));
      std::copy(table.begin(), table.end(),
                b.block_tables.begin() + (g * num_seqs + i) * max_blocks);
      int32_t* slots = b.slot_mapping.data() + g * out.num_tokens + first;
      for (int32_t p = q.num_computed; p < q.num_computed + s.num_new_tokens; ++p)
        *slots++ = table[p / bs] * bs + p % bs;
    }
    b.query_start.push_back(static_cast<int32_t>(b.tokens.size()));
    if (state_pool_) {  // a prefix hit starts from its snapshot, a cold start from zeros
      b.state_slots.push_back(q.state_slot);
      b.state_fresh.push_back(q.num_computed == 0 && s.restore_from < 0 ? 1 : 0);
      if (s.restore_from >= 0) kv_storage_->state()->copy_slot(s.restore_from, q.state_slot);
    }
    if (q.num_computed + s.num_new_tokens == q.num_tokens()) {
      b.logit_rows.push_back(static_cast<int32_t>(b.tokens.size()) - 1);
      sampled.push_back(&s);
    }
  }
  for (const std::vector<int32_t>& plane : rope_planes)
    b.rope_positions.insert(b.rope_positions.end(), plane.begin(), plane.end());
  std::vector<EncoderCache::Embeddings> held;  // the step's image rows
  if (vision_) {
    profile::WallScope t(profile::enabled() ? "step images (encoder, splices)" : "");
    add_images(out, b, held);
  }
  const int64_t vocab = model_.config().vocab_size;
  const auto t_batch = Clock::now();
  runner_->run(b, *kv_storage_);
  if (!backend_->host_resident()) send_outputs();   // the last step's, while this one runs
  for (const ScheduledSequence& s : out.scheduled)  // the state at a snapshot boundary
    if (s.save_to >= 0) kv_storage_->state()->copy_slot(s.seq->state_slot, s.save_to);
  scheduler_->on_step_done(out);
  totals_.computed_tokens += out.num_tokens;
  totals_.num_preemptions += static_cast<int64_t>(out.preempted.size());
  ++totals_.num_steps;

  // Sample each finished-prefill / decoding sequence with its own sampler, then apply the
  // tokens in order; deltas grouped by request.
  std::vector<SampleJob> jobs = plan_samples(sampled);
  sample_jobs(jobs, vocab);
  finish_prompt_only(sampled);
  const auto t_forward = Clock::now();
  std::unordered_map<Live*, std::vector<SequenceDelta>> news;
  for (const SampleJob& job : jobs) news[job.request].push_back(apply_sample(job));
  for (auto& [r, deltas] : news) {
    r->stats.num_cached_tokens = std::max(0, r->seqs[0].seq->num_cached_tokens);  // known by now
    if (r->num_finished == static_cast<int32_t>(r->seqs.size()) &&
        (r->forked || r->req.params.n == 1)) {
      const std::string id = r->req.id;
      finish_request(*r, deltas);
      live_.erase(id);
    } else {
      RequestOutput o;
      o.deltas = std::move(deltas);
      o.stats = r->stats;
      outbox_.emplace_back(r->stream, std::move(o));
    }
  }
  if (profile::enabled()) {  // "decode": every token of the step is a sampled one
    const std::string kind =
        out.num_tokens == static_cast<int64_t>(sampled.size()) ? " decode" : " mixed";
    auto secs = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    profile::add("step build batch" + kind, secs(t_batch - t_start));
    profile::add("step forward+sample" + kind, secs(t_forward - t_batch));
    profile::add(profile::op_key("step forward+sample", out.num_tokens, kind.substr(1)),
                 secs(t_forward - t_batch));  // by the step's token count too
    profile::add("step outputs" + kind, secs(Clock::now() - t_forward));
  }
}

std::vector<Engine::SampleJob> Engine::plan_samples(
    const std::vector<const ScheduledSequence*>& sampled) {
  std::vector<SampleJob> jobs;
  const Tokenizer& tok = model_.tokenizer();
  for (size_t k = 0; k < sampled.size(); ++k) {
    Sequence* seq = sampled[k]->seq;
    Live& r = *static_cast<Live*>(seq->owner);
    if (r.req.output != PromptOutput::kGenerate) continue;  // finish_prompt_only's
    auto it = std::find_if(r.seqs.begin(), r.seqs.end(),
                           [&](const Live::Seq& s) { return s.seq.get() == seq; });
    SLUICE_ASSERT(it != r.seqs.end(), "sampled sequence not in its request");
    // n > 1: after the prompt's prefill, fork the other n - 1 sequences off its KV blocks (full
    // blocks shared, the partial last one copied); without room a child recomputes later.
    if (!r.forked && r.req.params.n > 1) {
      r.forked = true;
      for (int32_t i = 1; i < r.req.params.n; ++i) {
        Live::Seq c;
        c.seq = std::make_unique<Sequence>(*seq);
        c.seq->id = next_seq_id_++;
        c.seq->num_computed_total = 0;
        c.seq->num_preemptions = 0;
        c.seq->state_slot = -1;
        auto copies = kv_->fork(seq->id, c.seq->id, seq->num_tokens());
        if (copies && state_pool_) {  // the child's recurrent state: a copy of its parent's
          if (const auto slot = state_pool_->acquire(c.seq->id)) {
            c.seq->state_slot = *slot;
            kv_storage_->state()->copy_slot(seq->state_slot, *slot);
          } else {
            kv_->free(c.seq->id);  // no slot: it recomputes later
            copies.reset();
          }
        }
        if (copies)
          for (const auto& [src, dst] : *copies) kv_storage_->copy_block(src, dst);
        c.seq->num_computed = copies ? seq->num_tokens() : 0;
        SamplingParams child = r.req.params;  // child i draws with seed + i (or a fresh seed)
        child.seed =
            r.req.params.seed ? std::optional<uint64_t>(*r.req.params.seed + i) : std::nullopt;
        c.start(child, seed_rng_(), r.req, tok);
        r.seqs.push_back(std::move(c));
      }
      it = r.seqs.begin();  // the vector moved
    }
    const size_t first = static_cast<size_t>(it - r.seqs.begin());
    const size_t last =
        (r.forked && first == 0 && seq->num_output_tokens() == 0) ? r.seqs.size() : first + 1;
    for (size_t i = first; i < last; ++i) {
      Live::Seq& s = r.seqs[i];
      SampleJob job;
      job.request = &r;
      job.index = i;
      job.row = k;
      job.constrained = s.constrained();
      job.forked_child = i > first;
      if (s.forced.empty() && s.reasoning->budget_spent()) {
        const auto& close = r.req.reasoning.close_tokens;
        s.forced.assign(close.rbegin(), close.rend());
      }
      if (!s.forced.empty()) {
        job.out = s.sampler->force(s.forced.back());
        s.forced.pop_back();
        job.sampled = true;
      }
      jobs.push_back(std::move(job));
    }
  }
  return jobs;
}

// Prompt-only requests whose prompt ran to its end: their vector from the step's row instead of
// a token, and they finish. Freed blocks keep their hashes: a later prompt sharing the prefix
// (the same instruction or document) finds them in the prefix cache.
void Engine::finish_prompt_only(const std::vector<const ScheduledSequence*>& sampled) {
  std::vector<float> hidden;      // [rows, hidden], fetched once when a request wants it
  const float* logits = nullptr;  // [rows, vocab], likewise
  const int64_t H = model_.config().hidden_size, vocab = model_.config().vocab_size;
  for (size_t k = 0; k < sampled.size(); ++k) {
    Sequence* seq = sampled[k]->seq;
    Live& r = *static_cast<Live*>(seq->owner);
    if (r.req.output == PromptOutput::kGenerate) continue;
    std::vector<float> out;
    if (r.req.output == PromptOutput::kLastHidden) {
      if (hidden.empty()) {
        hidden.resize(runner_->num_rows() * H);
        runner_->final_hidden(hidden.data());
      }
      out.assign(hidden.begin() + k * H, hidden.begin() + (k + 1) * H);
    } else {
      if (!logits) logits = runner_->host_logits();
      for (int32_t id : r.req.logit_ids) out.push_back(logits[k * vocab + id]);
    }
    scheduler_->remove(seq);
    r.seqs[0].finished = true;
    ++r.num_finished;
    std::vector<SequenceDelta> deltas(1);
    deltas[0].finish_reason = FinishReason::kStop;
    const std::string id = r.req.id;
    finish_request(r, deltas);
    outbox_.back().second.prompt_output = std::move(out);
    live_.erase(id);
  }
}

// Appends the job's token to its sequence and turns it into the sequence's delta: text through
// the detokenizer and stop strings, and the finish reason when it ends here.
SequenceDelta Engine::apply_sample(const SampleJob& job) {
  const Tokenizer& tok = model_.tokenizer();
  Live& r = *job.request;
  Live::Seq& s = r.seqs[job.index];
  const SampleOutput& so = job.out;
  const bool constrained = job.constrained;
  const bool rejected = constrained && !s.constraint->accept(so.token);
  if (s.reasoning->tracking()) s.reasoning->push(tok.token_bytes(so.token, /*skip_special=*/false));
  Sequence& q = *s.seq;
  q.tokens.push_back(so.token);
  if (job.forked_child) {
    if (kv_->has(q.id))
      scheduler_->add_running(&q);
    else
      scheduler_->add(&q);
  } else {
    scheduler_->on_tokens_appended(&q);
  }
  ++r.stats.num_output_tokens;
  ++totals_.generated_tokens;
  if (r.stats.num_output_tokens == 1) r.stats.first_token = Clock::now();

  SequenceDelta d;
  d.index = static_cast<int32_t>(job.index);
  d.token_ids.push_back(so.token);
  if (r.req.params.logprobs) d.logprobs.push_back(so);
  const SamplingParams& p = r.req.params;
  std::optional<FinishReason> finish;
  const bool is_eog = std::find(eog_ids_.begin(), eog_ids_.end(), so.token) != eog_ids_.end();
  if (rejected) {  // a grammar with no way forward; never expected
    finish = FinishReason::kError;
    d.stop_reason = "grammar: no allowed token";
  } else if ((is_eog && !p.ignore_eos) ||
             std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), so.token) !=
                 p.stop_token_ids.end()) {
    finish = FinishReason::kStop;
    d.stop_reason = "token:" + std::to_string(so.token);
  } else {
    d.text = s.stops->push(s.detok->push(so.token));
    if (s.stops->stopped()) {
      finish = FinishReason::kStop;
      d.stop_reason = s.stops->matched();
    } else if (constrained && s.constraint->must_finish()) {
      finish = FinishReason::kStop;  // the grammar is complete: nothing may follow
      d.stop_reason = "grammar";
    }
  }
  if (!finish && (q.num_output_tokens() >= p.max_tokens || q.num_tokens() >= max_model_len_))
    finish = FinishReason::kLength;
  if (finish) {
    if (!s.stops->stopped()) {
      d.text += s.stops->push(s.detok->flush());
      if (s.stops->stopped())
        d.stop_reason = s.stops->matched();
      else
        d.text += s.stops->flush();
    }
    d.finish_reason = finish;
    s.finished = true;
    ++r.num_finished;
    scheduler_->remove(&q);
  }
  return d;
}

void Engine::finish_request(Live& r, std::vector<SequenceDelta>& deltas) {
  RequestOutput o;
  o.deltas = std::move(deltas);
  o.finished = true;
  r.stats.finished = Clock::now();
  r.stats.num_cached_tokens = std::max(0, r.seqs.empty() ? 0 : r.seqs[0].seq->num_cached_tokens);
  for (const Live::Seq& s : r.seqs) {
    r.stats.num_computed_tokens += s.seq->num_computed_total;
    r.stats.num_preemptions += s.seq->num_preemptions;
  }
  o.stats = r.stats;
  {
    std::lock_guard<std::mutex> lock(mu_);  // the id is free again once the client sees the end
    ids_.erase(r.req.id);
  }
  outbox_.emplace_back(r.stream, std::move(o));
}

void Engine::publish_metrics() {
  EngineMetrics m = totals_;
  m.num_running = static_cast<int64_t>(scheduler_->num_running());
  m.num_waiting = static_cast<int64_t>(scheduler_->num_waiting());
  m.kv_blocks_total = kv_->pool().num_blocks() - 1;
  m.kv_blocks_used = m.kv_blocks_total - kv_->num_free_blocks();
  m.prefix_queries = scheduler_->prefix_stats().queries;
  m.prefix_hits = scheduler_->prefix_stats().hits;
  if (state_pool_) {
    m.state_slots_total = state_pool_->num_live();
    m.state_slots_used = m.state_slots_total - state_pool_->num_free_live();
    m.state_snapshots_total = state_pool_->num_snapshots();
    m.state_snapshots_held = state_pool_->num_snapshots_held();
  }
  if (encoder_cache_) {
    m.vision = true;
    m.encoder_cache_hits = encoder_cache_->hits();
    m.encoder_cache_bytes = encoder_cache_->bytes();
    m.encoder_cache_entries = encoder_cache_->size();
    m.encoder_cache_budget = encoder_cache_->budget();
  }
  std::lock_guard<std::mutex> lock(mu_);
  metrics_ = m;
}

}  // namespace sluice
