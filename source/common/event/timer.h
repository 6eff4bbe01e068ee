#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace waystone::event {

using TimerCb = std::function<void()>;

// A one-shot timer owned by the code that created it; destroying it cancels it.
// Only the dispatcher's thread may use it.
class Timer {
 public:
  virtual ~Timer() = default;

  // (Re)arms the timer; a pending arm is replaced.
  virtual void enableTimer(std::chrono::milliseconds duration) = 0;
  virtual void disableTimer() = 0;
  virtual bool enabled() const = 0;
};

using TimerPtr = std::unique_ptr<Timer>;

}  // namespace waystone::event
