#pragma once

#include <list>
#include <memory>
#include <vector>

#include "source/common/event/deferred_deletable.h"
#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/network/connection_socket.h"
#include "source/common/network/listener_filter.h"
#include "source/server/listener_config.h"

namespace waystone::server {

class ActiveListener;

// An accepted socket going through its listener's listener_filters (original_dst,
// tls_inspector, http_inspector) before a filter chain is chosen. Filters run in order; one
// that returns StopIteration (waiting for bytes) resumes the chain with continueFilterChain().
// listener_filters_timeout bounds the whole phase: when it fires the socket is closed, or, if
// continue_on_listener_filters_timeout is set, filter chain selection runs at once without the
// waiting filter and those after it (as in Envoy).
class ActiveSocket final : public network::ListenerFilterCallbacks,
                           public event::DeferredDeletable {
 public:
  ActiveSocket(ActiveListener& listener, network::ConnectionSocketPtr socket);
  ~ActiveSocket() override;

  // Runs the filters; may finish (and remove this object from its listener) before returning.
  void start();

  // network::ListenerFilterCallbacks
  network::ConnectionSocket& socket() override { return *socket_; }
  event::Dispatcher& dispatcher() override;
  void continueFilterChain(bool success) override;

  // Where this object sits in its listener's list, for O(1) removal.
  std::list<std::unique_ptr<ActiveSocket>>::iterator position_;

 private:
  void iterate();
  void onTimeout();

  ActiveListener& listener_;
  const ListenerConfigConstSharedPtr config_;
  network::ConnectionSocketPtr socket_;
  // Every instance created so far: a filter may call continueFilterChain() from its own
  // callback, so none is destroyed before this object is.
  std::vector<network::ListenerFilterPtr> filters_;
  size_t next_ = 0;  // index into config_->listenerFilters() of the filter running or to run
  event::TimerPtr timer_;
  bool done_ = false;
};

}  // namespace waystone::server
