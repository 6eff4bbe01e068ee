#include "source/server/active_listener.h"

#include "source/common/common/logger.h"
#include "source/common/network/listener_impl.h"

namespace waystone::server {

ActiveListener::ActiveListener(event::Dispatcher& dispatcher, ListenerConfigConstSharedPtr config,
                               std::shared_ptr<network::ListenSocket> socket)
    : dispatcher_(dispatcher),
      config_(std::move(config)),
      socket_(std::move(socket)),
      listener_(std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this,
                                                        config_->transportFactory())) {}

ActiveListener::~ActiveListener() { closeConnections(); }

void ActiveListener::onAccept(network::ConnectionPtr&& connection) {
  auto active = std::make_unique<ActiveConnection>(*this, std::move(connection));
  ActiveConnection& ref = *active;
  connections_.push_front(std::move(active));
  ref.position_ = connections_.begin();
  WAYSTONE_LOG(debug, conn_handler, "[%s] accepted connection %d from %s", config_->name(),
               ref.connection().id(), ref.connection().remoteAddress()->asString());
  ref.start();
}

void ActiveListener::stopAccepting() {
  listener_.reset();
  socket_.reset();
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
