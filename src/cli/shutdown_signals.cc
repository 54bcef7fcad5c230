#include "cli/shutdown_signals.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace sluice {

struct ShutdownSignals::State {
  std::mutex mu;  // held while on_first runs; the destructor waits for it
  std::function<void()> on_first;
  bool active = true;
  std::atomic<bool> signalled{false};
};

namespace {

sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

ShutdownSignals::ShutdownSignals(std::function<void()> on_first)
    : state_(std::make_shared<State>()) {
  state_->on_first = std::move(on_first);
  const sigset_t set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([state = state_, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (state->signalled.exchange(true)) {
        std::fprintf(stderr, "sluice: second signal: exiting now\n");
        std::_Exit(128 + sig);
      }
      std::fprintf(stderr, "sluice: signal %d: draining (a second signal exits at once)\n", sig);
      std::thread([state] {
        std::lock_guard<std::mutex> lock(state->mu);
        if (state->active) state->on_first();
      }).detach();
    }
  }).detach();
}

ShutdownSignals::~ShutdownSignals() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->active = false;
}

bool ShutdownSignals::signalled() const {
  return state_->signalled.load();
}

}  // namespace sluice
