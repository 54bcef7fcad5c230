#pragma once
// SIGINT / SIGTERM, handled on a thread of their own: the first runs `on_first` (a graceful
// drain) on a new thread, a second exits the process at once. Construct before any other thread
// starts: the signals are blocked in this thread and every thread it starts later.
#include <functional>
#include <memory>

namespace sluice {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void()> on_first);
  ~ShutdownSignals();  // a signal after this runs nothing (a second one still exits)
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;
  bool signalled() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sluice
