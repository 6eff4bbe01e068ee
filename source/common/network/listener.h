#pragma once

#include <memory>

#include "source/common/network/connection.h"

namespace waystone::network {

// Told about each accepted connection. It takes ownership.
class ListenerCallbacks {
 public:
  virtual ~ListenerCallbacks() = default;
  virtual void onAccept(ConnectionPtr&& connection) = 0;
};

// Accepts connections from a ListenSocket on one dispatcher. Destroying it stops accepting (the
// socket itself is owned elsewhere, so other workers keep listening).
class Listener {
 public:
  virtual ~Listener() = default;
  // Temporarily stop/resume accepting (drain, overload).
  virtual void disable() = 0;
  virtual void enable() = 0;
};

using ListenerPtr = std::unique_ptr<Listener>;

}  // namespace waystone::network
