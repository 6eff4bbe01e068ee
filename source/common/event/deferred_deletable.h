#pragma once

#include <memory>

namespace waystone::event {

// An object that may be handed to Dispatcher::deferredDelete(): it is destroyed at the end of the
// current loop iteration, never inside one of its own callbacks.
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};

using DeferredDeletablePtr = std::unique_ptr<DeferredDeletable>;

}  // namespace waystone::event
