#pragma once

#include <chrono>
#include <functional>

#include "absl/status/status.h"

#include "source/common/event/deferred_deletable.h"
#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"

namespace waystone::http::http2 {

// What an HTTP/2 codec needs from the event loop it runs on. Every member is optional, so tests
// and fuzzers can drive a codec with no loop at all; a worker passes fromDispatcher().
struct CodecRuntime {
  using TimerFactory = std::function<event::TimerPtr(event::TimerCb)>;
  using DeferredDelete = std::function<void(event::DeferredDeletablePtr&&)>;
  using TimeSource = std::function<std::chrono::steady_clock::time_point()>;
  using ErrorCallback = std::function<void(const absl::Status&)>;

  // Creates the keepalive timers. Without it, keepalive PINGs are off whatever the settings say.
  TimerFactory timer_factory;
  // Frees a finished stream after the current loop iteration, so that a caller still holding
  // its encoder (e.g. in a callback further up the stack) never touches freed memory. Without
  // it, finished streams are freed at the start of the next dispatch() or with the connection.
  DeferredDelete deferred_delete;
  // Monotonic clock for the premature-reset guard; steady_clock::now() when empty.
  TimeSource time_source;
  // Errors found outside dispatch(), today only a keepalive PING that was not acknowledged in
  // time: the owner should close the connection. It is called from the timer callback as its
  // last action, so the owner may destroy the codec inside it. The next dispatch() returns the
  // same error.
  ErrorCallback on_connection_error;

  // Timers, deferred deletion and time from `dispatcher`; on_connection_error stays empty.
  static CodecRuntime fromDispatcher(event::Dispatcher& dispatcher) {
    CodecRuntime runtime;
    runtime.timer_factory = [&dispatcher](event::TimerCb cb) {
      return dispatcher.createTimer(std::move(cb));
    };
    runtime.deferred_delete = [&dispatcher](event::DeferredDeletablePtr&& to_delete) {
      dispatcher.deferredDelete(std::move(to_delete));
    };
    runtime.time_source = [&dispatcher]() { return dispatcher.approximateMonotonicTime(); };
    return runtime;
  }
};

}  // namespace waystone::http::http2
