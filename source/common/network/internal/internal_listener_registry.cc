#include "source/common/network/internal/internal_listener_registry.h"

namespace waystone::network {

InternalListenerRegistry& InternalListenerRegistry::get() {
  // One per thread, created on first use and destroyed when the thread exits.
  static thread_local InternalListenerRegistry registry;
  return registry;
}

bool InternalListenerRegistry::registerListener(absl::string_view name,
                                                InternalListenerCallbacks& callbacks) {
  auto [it, inserted] = listeners_.try_emplace(name, &callbacks);
  if (!inserted) {
    it->second = &callbacks;
  }
  return !inserted;
}

bool InternalListenerRegistry::unregisterListener(absl::string_view name,
                                                  const InternalListenerCallbacks& callbacks) {
  auto it = listeners_.find(name);
  if (it == listeners_.end() || it->second != &callbacks) {
    return false;
  }
  listeners_.erase(it);
  return true;
}

InternalListenerCallbacks* InternalListenerRegistry::find(absl::string_view name) const {
  auto it = listeners_.find(name);
  return it == listeners_.end() ? nullptr : it->second;
}

}  // namespace waystone::network
