// The engine's sampling of a step: greedy picks alone, on the backend, or from the host's logits
// (grammar masks serially, the rest in parallel).
#include <algorithm>

#include "common/openmp.h"
#include "engine/engine.h"
#include "engine/engine_live.h"

namespace sluice {

void Engine::fill_mask(const SampleJob& job, int64_t vocab, std::vector<uint32_t>& mask) const {
  const Live& r = *job.request;
  const Live::Seq& s = r.seqs[job.index];
  const Sequence& q = *s.seq;
  mask.resize((vocab + 31) / 32);
  // with the tokens it may still emit, this one included
  s.constraint->fill_mask(mask, std::min(r.req.params.max_tokens - q.num_output_tokens(),
                                         max_model_len_ - q.num_tokens()));
}

void Engine::sample_jobs(std::vector<SampleJob>& jobs, int64_t vocab) {
  if (all_plain_greedy(jobs)) {
    std::vector<int32_t> picks(runner_->num_rows());  // [num_sampled rows]
    runner_->greedy(picks.data());
    for (SampleJob& job : jobs)
      if (!job.sampled)
        job.out = job.request->seqs[job.index].sampler->force(picks[job.row]), job.sampled = true;
  } else if (runner_->samples_on_device()) {
    sample_on_backend(jobs, vocab);
  } else {
    sample_on_host(jobs, vocab);
  }
}

bool Engine::all_plain_greedy(const std::vector<SampleJob>& jobs) const {
  for (const SampleJob& job : jobs)
    if (!job.sampled && (job.constrained || !job.request->seqs[job.index].sampler->plain_greedy()))
      return false;
  return true;
}

void Engine::sample_on_backend(std::vector<SampleJob>& jobs, int64_t vocab) {
  std::vector<SampleJob*> todo;
  for (SampleJob& job : jobs)
    if (!job.sampled) todo.push_back(&job);
  std::vector<std::vector<uint32_t>> masks(todo.size());
  std::vector<RowSampling> rows;
  for (size_t j = 0; j < todo.size(); ++j) {
    const SampleJob& job = *todo[j];
    if (job.constrained) fill_mask(job, vocab, masks[j]);
    rows.push_back(job.request->seqs[job.index].sampler->row_sampling(
        static_cast<int32_t>(job.row), static_cast<int32_t>(vocab),
        job.constrained ? masks[j].data() : nullptr));
  }
  std::vector<RowSampled> results(rows.size());
  runner_->sample(rows, results.data());
  for (size_t j = 0; j < todo.size(); ++j) {
    SampleJob& job = *todo[j];
    job.out = job.request->seqs[job.index].sampler->take(results[j]);
    job.sampled = true;
  }
}

// Each sequence's sampler and RNG are its own, so the order the rows run in does not matter.
void Engine::sample_on_host(std::vector<SampleJob>& jobs, int64_t vocab) {
  const float* logits = runner_->host_logits();  // [num_sampled rows, vocab]
  std::vector<SampleJob*> todo;
  std::vector<float> row;
  std::vector<uint32_t> mask;
  for (SampleJob& job : jobs) {
    if (job.sampled) continue;
    if (!job.constrained) {
      todo.push_back(&job);
      continue;
    }
    fill_mask(job, vocab, mask);  // grammars are sampled serially, in job order
    row.assign(logits + job.row * vocab, logits + (job.row + 1) * vocab);
    job.out = job.request->seqs[job.index].sampler->sample(row, mask.data());
    job.sampled = true;
  }
  const auto count = static_cast<int64_t>(todo.size());
  const int threads = static_cast<int>(std::min<int64_t>(count / 4 + 1, parallel_max_threads()));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t j = 0; j < count; ++j) {
    thread_local std::vector<float> copy;  // the sampler edits its copy of the row
    SampleJob& job = *todo[j];
    copy.assign(logits + job.row * vocab, logits + (job.row + 1) * vocab);
    job.out = job.request->seqs[job.index].sampler->sample(copy, nullptr);
    job.sampled = true;
  }
}

}  // namespace sluice
