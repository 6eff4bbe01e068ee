#pragma once

#include <functional>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/network/connection_socket.h"

namespace waystone::network {

enum class ListenerFilterStatus {
  Continue,       // done with this socket: run the next listener filter
  StopIteration,  // waiting (usually for data): the filter calls continueFilterChain() later
};

// What a listener filter may do with the socket it inspects.
class ListenerFilterCallbacks {
 public:
  virtual ~ListenerFilterCallbacks() = default;
  virtual ConnectionSocket& socket() = 0;
  virtual event::Dispatcher& dispatcher() = 0;
  // After StopIteration: true runs the next filter (then filter chain selection); false closes
  // the socket. Must be called exactly once per StopIteration, never from inside onAccept().
  virtual void continueFilterChain(bool success) = 0;
};

// Runs on each accepted socket before a filter chain is chosen (original_dst, tls_inspector,
// http_inspector), in listener_filters order. One instance per socket.
class ListenerFilter {
 public:
  virtual ~ListenerFilter() = default;
  virtual ListenerFilterStatus onAccept(ListenerFilterCallbacks& callbacks) = 0;
};

using ListenerFilterPtr = std::unique_ptr<ListenerFilter>;
// Built once from config on the main thread, called on a worker for each socket.
using ListenerFilterFactoryCb = std::function<ListenerFilterPtr()>;

}  // namespace waystone::network
