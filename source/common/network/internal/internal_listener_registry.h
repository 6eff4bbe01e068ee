#pragma once

#include <cstddef>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

#include "source/common/network/connection_socket.h"

namespace waystone::network {

// An internal listener as the registry sees it: where new internal connections go.
class InternalListenerCallbacks {
 public:
  virtual ~InternalListenerCallbacks() = default;
  // A client connected: `socket` is the server side, not a connection yet. The listener runs its
  // listener filters on it, picks a filter chain and calls socket->createConnection(dispatcher,
  // nullptr); destroying the socket instead rejects the client (it gets RemoteClose). Called from
  // the client's connect work on the worker's loop, never from inside a caller's connect().
  virtual void onAccept(ConnectionSocketPtr socket) = 0;
};

// The internal listeners of one worker thread, by Listener.name. Internal connections are made
// and accepted on the thread that runs both sides, so each thread has its own registry and no
// lock: a worker registers its internal listeners on its own thread, and clients on that thread
// find them. Not for cross-thread use.
class InternalListenerRegistry {
 public:
  // The calling thread's registry.
  static InternalListenerRegistry& get();

  // Makes `name` reach `callbacks`, replacing an earlier registration of that name (a listener
  // updated in place: new connections go to the new one while the old one drains). `callbacks`
  // must stay alive until unregistered. Returns true if it replaced one.
  bool registerListener(absl::string_view name, InternalListenerCallbacks& callbacks);
  // Removes `name` if it still reaches `callbacks`, so that an old listener going away does not
  // unregister its replacement. Returns true if it removed it.
  bool unregisterListener(absl::string_view name, const InternalListenerCallbacks& callbacks);

  // The listener registered as `name`, nullptr if none.
  InternalListenerCallbacks* find(absl::string_view name) const;
  size_t size() const { return listeners_.size(); }

 private:
  InternalListenerRegistry() = default;

  absl::flat_hash_map<std::string, InternalListenerCallbacks*> listeners_;
};

}  // namespace waystone::network
