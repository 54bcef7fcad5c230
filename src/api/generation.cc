#include "api/generation.h"

#include <algorithm>

#include "common/profile.h"

namespace sluice::api {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

Generation::Generation(ModelContext& ctx, EngineRequest request)
    : ctx_(ctx), keep_(ctx.weak_from_this().lock()) {
  if (ctx_.in_flight().fetch_add(1) >= ctx_.options.max_queued_requests) {
    ctx_.in_flight().fetch_sub(1);
    throw ApiError(ErrorKind::kQueueFull, "the server has " +
                                              std::to_string(ctx_.options.max_queued_requests) +
                                              " requests in flight; retry later");
  }
  id_ = request.id;
  if (ctx_.options.max_output_tokens > 0)  // the server-wide cap (--max-output-tokens)
    request.params.max_tokens = std::min(request.params.max_tokens, ctx_.options.max_output_tokens);
  start_ = Clock::now();
  deadline_ = ctx_.options.request_timeout_s > 0
                  ? start_ + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(ctx_.options.request_timeout_s))
                  : Clock::time_point::max();
  auto stream = ctx_.engine->submit(std::move(request));
  if (!stream) {
    ctx_.in_flight().fetch_sub(1);
    throw engine_error(stream.request_error());
  }
  stream_ = *stream;
}

Generation::~Generation() {
  if (!finished_) {
    ctx_.engine->abort(id_);
    // Drain so the engine's final output (and its id) is released before we go.
    while (auto out = stream_->next(Clock::now() + std::chrono::seconds(30)))
      if (out->finished) break;
  }
  ctx_.in_flight().fetch_sub(1);
}

void Generation::abort(AbortCause cause) {
  if (!finished_ && cause_ == AbortCause::kNone) {
    cause_ = cause;
    ctx_.engine->abort(id_);
  }
}

AbortCause Generation::abort_cause() const {
  if (cause_ != AbortCause::kNone) return cause_;
  return aborted_by_engine_ ? AbortCause::kShutdown : AbortCause::kNone;
}

void Generation::observe(const RequestOutput& out) {
  const auto now = Clock::now();
  for (const SequenceDelta& d : out.deltas) {
    if (d.token_ids.empty()) continue;
    if (!seen_token_) {
      const double ttft = std::chrono::duration<double>(now - start_).count();
      ctx_.metrics->ttft_s.observe(ttft);
      if (profile::enabled()) profile::add("api submit->first token", ttft);
      seen_token_ = true;
      first_token_ = now;
    } else {
      ctx_.metrics->inter_token_s.observe(std::chrono::duration<double>(now - last_token_).count());
    }
    last_token_ = now;
    break;
  }
  for (const SequenceDelta& d : out.deltas)
    if (d.finish_reason == FinishReason::kAbort) aborted_by_engine_ = true;
  if (out.finished) {
    finished_ = true;
    if (seen_token_ && out.stats.num_output_tokens > 1)
      ctx_.metrics->tpot_s.observe(std::chrono::duration<double>(now - first_token_).count() /
                                   static_cast<double>(out.stats.num_output_tokens - 1));
    ctx_.metrics->e2e_s.observe(std::chrono::duration<double>(now - start_).count());
    ctx_.metrics->count_tokens(out.stats.num_prompt_tokens, out.stats.num_output_tokens);
  }
}

std::optional<RequestOutput> Generation::next(std::chrono::milliseconds poll) {
  if (finished_) return std::nullopt;
  if (Clock::now() >= deadline_) abort(AbortCause::kTimeout);
  auto out = stream_->next(std::min(Clock::now() + poll, deadline_));
  if (out) observe(*out);
  return out;
}

RequestOutput Generation::wait_all(const std::function<bool()>& client_gone) {
  RequestOutput all;
  while (!finished_) {
    auto out = next(std::chrono::milliseconds(100));
    if (client_gone()) abort(AbortCause::kClientGone);  // one poll(2) per output or 100 ms
    if (!out) continue;
    for (SequenceDelta& d : out->deltas) {
      auto it = std::find_if(all.deltas.begin(), all.deltas.end(),
                             [&](const SequenceDelta& a) { return a.index == d.index; });
      if (it == all.deltas.end()) {
        all.deltas.push_back(std::move(d));
        continue;
      }
      it->token_ids.insert(it->token_ids.end(), d.token_ids.begin(), d.token_ids.end());
      it->text += d.text;
      it->logprobs.insert(it->logprobs.end(), d.logprobs.begin(), d.logprobs.end());
      if (d.finish_reason) {
        it->finish_reason = d.finish_reason;
        it->stop_reason = d.stop_reason;
      }
    }
    all.finished = out->finished;
    all.error = out->error;
    all.stats = out->stats;
  }
  std::sort(all.deltas.begin(), all.deltas.end(),
            [](const SequenceDelta& a, const SequenceDelta& b) { return a.index < b.index; });
  return all;
}

const SequenceDelta& checked_final(const SequenceDelta* d, const std::string& error,
                                   AbortCause cause) {
  if (!error.empty()) throw ApiError(ErrorKind::kInternal, "generation failed: " + error);
  if (cause == AbortCause::kClientGone)
    throw ApiError(ErrorKind::kClientClosed, "the client closed the connection");
  if (!d || !d->finish_reason)
    throw ApiError(ErrorKind::kInternal, "generation ended without a finish reason");
  if (*d->finish_reason == FinishReason::kAbort)
    throw ApiError(ErrorKind::kUnavailable,
                   cause == AbortCause::kTimeout
                       ? "the request was aborted: it ran past --request-timeout"
                       : "the request was aborted: the server is shutting down");
  if (*d->finish_reason == FinishReason::kError)
    throw ApiError(ErrorKind::kInternal, "generation failed");
  return *d;
}

}  // namespace sluice::api
