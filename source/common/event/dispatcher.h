#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/event/deferred_deletable.h"
#include "source/common/event/file_event.h"
#include "source/common/event/signal_event.h"
#include "source/common/event/timer.h"

namespace waystone::event {

using PostCb = std::function<void()>;

// One event loop, owned by one thread (the main thread or a worker). Everything but post() and
// exit() must be called from that thread. Work crosses threads only through post().
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  // Name of the owning thread, e.g. "main" or "worker_0", for logs.
  virtual const std::string& name() const = 0;

  virtual TimerPtr createTimer(TimerCb cb) = 0;
  virtual FileEventPtr createFileEvent(int fd, FileReadyCb cb, uint32_t events) = 0;
  virtual SignalEventPtr listenForSignal(int signal_num, SignalCb cb) = 0;

  // Destroys `to_delete` at the end of the current loop iteration, so an object can finish the
  // callback it is in.
  virtual void deferredDelete(DeferredDeletablePtr&& to_delete) = 0;

  // Runs `cb` on this dispatcher's thread, in order of posting. Safe from any thread.
  virtual void post(PostCb cb) = 0;

  enum class RunType { Block, NonBlock, RunUntilExit };
  // Block: run until no events are left. NonBlock: handle what is ready, then return.
  // RunUntilExit: run until exit(), even with nothing registered.
  virtual void run(RunType type) = 0;

  // Makes run() return after the current iteration. Safe from any thread.
  virtual void exit() = 0;

  // True when called on the thread running this dispatcher (or before it has run at all).
  virtual bool isThreadSafe() const = 0;

  // Wall-clock-free monotonic time as cached at the start of the loop iteration.
  virtual std::chrono::steady_clock::time_point approximateMonotonicTime() const = 0;
  virtual void updateApproximateMonotonicTime() = 0;
};

using DispatcherPtr = std::unique_ptr<Dispatcher>;

}  // namespace waystone::event
