#include "source/server/active_listener.h"

#include <vector>

#include "source/common/common/logger.h"
#include "source/common/network/listener_impl.h"

namespace waystone::server {

ActiveListener::ActiveListener(event::Dispatcher& dispatcher, ListenerConfigConstSharedPtr config,
                               std::shared_ptr<network::ListenSocket> socket)
    : dispatcher_(dispatcher),
      config_(std::move(config)),
      socket_(std::move(socket)),
      listener_(socket_ == nullptr
                    ? nullptr
                    : std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this)) {
  // Internal listeners are found by name on this worker's thread (we are on it: workers build
  // their listeners themselves).
  if (config_->isInternal()) {
    network::InternalListenerRegistry::get().registerListener(config_->name(), *this);
  }
}

ActiveListener::~ActiveListener() {
  if (config_->isInternal()) {
    network::InternalListenerRegistry::get().unregisterListener(config_->name(), *this);
  }
  // Sockets still in listener filters are dropped (their descriptors close).
  sockets_.clear();
  closeConnections();
}

bool ActiveListener::onAcceptSocket(network::ConnectionSocketPtr& socket) {
  acceptSocket(std::move(socket));
  return true;
}

void ActiveListener::acceptSocket(network::ConnectionSocketPtr socket) {
  auto active = std::make_unique<ActiveSocket>(*this, std::move(socket));
  ActiveSocket& ref = *active;
  sockets_.push_front(std::move(active));
  ref.position_ = sockets_.begin();
  ref.start();
}

void ActiveListener::onSocketReady(ActiveSocket& active_socket,
                                   network::ConnectionSocketPtr socket) {
  // We may be inside a listener filter's callback: delete the ActiveSocket later.
  std::unique_ptr<ActiveSocket> owned = std::move(*active_socket.position_);
  sockets_.erase(active_socket.position_);
  dispatcher_.deferredDelete(std::move(owned));
  if (socket == nullptr) {
    return;  // refused; the socket closed with it
  }
  const FilterChain* chain = config_->selectFilterChain(*socket);
  if (chain == nullptr) {
    config_->stats().no_filter_chain_match.inc();
    WAYSTONE_LOG(debug, conn_handler, "[%s] no filter chain matches the connection from %s to %s",
                 config_->name(), socket->remoteAddress()->asString(),
                 socket->localAddress()->asString());
    return;
  }
  network::TransportSocketPtr transport =
      chain->transport_factory ? chain->transport_factory() : nullptr;
  newConnection(socket->createConnection(dispatcher_, std::move(transport)), *chain);
}

void ActiveListener::onAccept(network::ConnectionPtr&& connection) {
  // Not used: onAcceptSocket() takes every socket. A connection without a chain would have no
  // filters; close it.
  connection->close(network::ConnectionCloseType::NoFlush);
}

void ActiveListener::newConnection(network::ConnectionPtr&& connection, const FilterChain& chain) {
  if (connection == nullptr) {
    return;
  }
  auto active = std::make_unique<ActiveConnection>(*this, std::move(connection), chain);
  ActiveConnection& ref = *active;
  connections_.push_front(std::move(active));
  ref.position_ = connections_.begin();
  WAYSTONE_LOG(debug, conn_handler, "[%s] accepted connection %d from %s", config_->name(),
               ref.connection().id(), ref.connection().remoteAddress()->asString());
  ref.start();
  if (drain_event_.has_value()) {
    ref.startDrain(*drain_event_);
  }
}

void ActiveListener::stopAccepting() {
  if (config_->isInternal()) {
    network::InternalListenerRegistry::get().unregisterListener(config_->name(), *this);
  }
  listener_.reset();
  socket_.reset();
}

void ActiveListener::startDrain(const network::DrainEvent& event) {
  if (drain_event_.has_value()) {
    return;
  }
  drain_event_ = event;
  // Snapshot: a filter may close its connection while told (removed from the list meanwhile).
  std::vector<ActiveConnection*> connections;
  for (const auto& connection : connections_) {
    connections.push_back(connection.get());
  }
  for (ActiveConnection* connection : connections) {
    connection->startDrain(event);  // closed ones wait for deferred deletion: still valid
  }
}

void ActiveListener::closeConnections() {
  while (!connections_.empty()) {
    ActiveConnection* front = connections_.front().get();
    // close() raises LocalClose, which calls removeConnection() for this entry.
    front->connection().close(network::ConnectionCloseType::NoFlush);
    if (!connections_.empty() && connections_.front().get() == front) {
      removeConnection(*front);  // it was closed already; never loop forever
    }
  }
}

void ActiveListener::removeConnection(ActiveConnection& connection) {
  std::unique_ptr<ActiveConnection> owned = std::move(*connection.position_);
  connections_.erase(connection.position_);
  // We are inside the connection's own callback: delete it after this loop iteration.
  dispatcher_.deferredDelete(std::move(owned));
}

}  // namespace waystone::server
