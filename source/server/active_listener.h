#pragma once

#include <list>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener.h"
#include "source/server/active_connection.h"
#include "source/server/listener_config.h"

namespace waystone::server {

// One listener on one worker: accepts from its share of the listen socket(s) and owns the
// connections it accepted.
class ActiveListener final : public network::ListenerCallbacks {
 public:
  ActiveListener(event::Dispatcher& dispatcher, ListenerConfigConstSharedPtr config,
                 std::shared_ptr<network::ListenSocket> socket);
  ~ActiveListener() override;

  // network::ListenerCallbacks
  void onAccept(network::ConnectionPtr&& connection) override;

  // Stops accepting; live connections continue.
  void stopAccepting();
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
  network::ListenerPtr listener_;
  std::list<std::unique_ptr<ActiveConnection>> connections_;
};

}  // namespace waystone::server
