#pragma once

#include <list>
#include <memory>
#include <optional>

#include "source/common/event/dispatcher.h"
#include "source/common/network/internal/internal_listener_registry.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener.h"
#include "source/server/active_connection.h"
#include "source/server/active_socket.h"
#include "source/server/listener_config.h"

namespace waystone::server {

// One listener on one worker: accepts from its share of the listen socket(s) and owns the
// sockets going through listener filters and the connections it accepted. Each accepted socket
// runs the listener filters (ActiveSocket), then gets the filter chain the listener selects for
// it, which gives the connection its transport and network filters.
class ActiveListener final : public network::ListenerCallbacks,
                             public network::InternalListenerCallbacks {
 public:
  ActiveListener(event::Dispatcher& dispatcher, ListenerConfigConstSharedPtr config,
                 std::shared_ptr<network::ListenSocket> socket);
  ~ActiveListener() override;

  // network::ListenerCallbacks
  bool onAcceptSocket(network::ConnectionSocketPtr& socket) override;
  void onAccept(network::ConnectionPtr&& connection) override;
  // network::InternalListenerCallbacks: an internal connection to this (internal) listener.
  void onAccept(network::ConnectionSocketPtr socket) override { acceptSocket(std::move(socket)); }

  // Takes an accepted socket (from the TCP listener, or an internal connection).
  void acceptSocket(network::ConnectionSocketPtr socket);
  // Called by an ActiveSocket when its listener filters are done: `socket` goes on to filter
  // chain selection, or is null when a filter or the timeout refused it.
  void onSocketReady(ActiveSocket& active_socket, network::ConnectionSocketPtr socket);

  // Stops accepting; live connections continue.
  void stopAccepting();
  // A drain sequence started: tells every connection, and every connection accepted from now on
  // (graceful drains keep accepting for a while). Only the first drain counts.
  void startDrain(const network::DrainEvent& event);
  // Closes every connection now (shutdown).
  void closeConnections();
  // Called by an ActiveConnection when it closes.
  void removeConnection(ActiveConnection& connection);

  event::Dispatcher& dispatcher() { return dispatcher_; }
  const ListenerConfig& config() const { return *config_; }
  const ListenerConfigConstSharedPtr& configPtr() const { return config_; }
  size_t numConnections() const { return connections_.size(); }

 private:
  event::Dispatcher& dispatcher_;
  const ListenerConfigConstSharedPtr config_;
  std::shared_ptr<network::ListenSocket> socket_;
  void newConnection(network::ConnectionPtr&& connection, const FilterChain& chain);

  network::ListenerPtr listener_;
  std::list<std::unique_ptr<ActiveSocket>> sockets_;
  std::list<std::unique_ptr<ActiveConnection>> connections_;
  std::optional<network::DrainEvent> drain_event_;
};

}  // namespace waystone::server
