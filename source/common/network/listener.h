#pragma once

#include <memory>

#include "source/common/network/connection.h"
#include "source/common/network/connection_socket.h"

namespace waystone::network {

// Told about each accepted connection. It takes ownership.
class ListenerCallbacks {
 public:
  virtual ~ListenerCallbacks() = default;
  // The accepted socket, before any transport exists: a listener with listener filters and
  // several filter chains takes it here (and returns true) to inspect it and pick the
  // transport itself. Returning false (the default) lets the listener make the connection with
  // its own transport factory and call onAccept().
  virtual bool onAcceptSocket(ConnectionSocketPtr& /*socket*/) { return false; }
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
