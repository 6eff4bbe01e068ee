#pragma once

#include <functional>
#include <memory>

namespace waystone::event {

using SignalCb = std::function<void()>;

// A process signal delivered as an ordinary callback on the dispatcher's thread.
// Destroying it restores the default handling.
class SignalEvent {
 public:
  virtual ~SignalEvent() = default;
};

using SignalEventPtr = std::unique_ptr<SignalEvent>;

}  // namespace waystone::event
