#pragma once

#include <list>
#include <memory>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"
#include "source/common/network/filter.h"
#include "source/server/listener_config.h"

namespace waystone::server {

class ActiveListener;

// One accepted downstream connection on a worker and its network filter chain. It feeds read
// data through the filters in order and removes itself from its listener when it closes.
class ActiveConnection final : public network::ConnectionCallbacks,
                               public network::ReadCallback,
                               public network::ReadFilterCallbacks,
                               public event::DeferredDeletable {
 public:
  ActiveConnection(ActiveListener& listener, network::ConnectionPtr&& connection,
                   const FilterChain& chain);
  ~ActiveConnection() override;

  // Creates the filters and runs onNewConnection through them.
  void start();
  // The listener is draining: tells every filter (once).
  void startDrain(const network::DrainEvent& event);

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;

  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;

  // network::ReadFilterCallbacks
  network::Connection& connection() override { return *connection_; }
  event::Dispatcher& dispatcher() override;
  void continueReading() override;

  // Where this object sits in its listener's list, for O(1) removal.
  std::list<std::unique_ptr<ActiveConnection>>::iterator position_;

 private:
  struct ActiveFilter {
    network::ReadFilterPtr filter;
    // onNewConnection has run. A filter that stops in onNewConnection holds back the filters
    // after it until continueReading().
    bool initialized = false;
  };

  // Envoy's read filter iteration: from `from`, initialise each filter not yet initialised, then
  // hand it the data (if any), until one returns StopIteration.
  void iterate(size_t from, buffer::Instance* data, bool end_stream);

  ActiveListener& listener_;
  // Own references, not the listener's: a listener destroyed with live connections (a worker
  // shutting down) leaves them to deferred deletion, which runs after the listener is gone.
  event::Dispatcher& dispatcher_;
  const ListenerConfigConstSharedPtr config_;
  network::ConnectionPtr connection_;
  // Lives in config_, which this object holds.
  const FilterChain& chain_;
  std::vector<ActiveFilter> filters_;
  // The filter that ran last (the one that stopped, if any).
  size_t current_filter_ = 0;
  bool closed_ = false;
  bool drain_started_ = false;
};

}  // namespace waystone::server
