#include "source/common/network/listener_impl.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include "source/common/common/logger.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/tcp_connection_socket.h"

namespace waystone::network {

ListenerImpl::ListenerImpl(event::Dispatcher& dispatcher, ListenSocket& socket,
                           ListenerCallbacks& callbacks, TransportSocketFactoryCb transport_factory)
    : dispatcher_(dispatcher),
      socket_(socket),
      transport_factory_(std::move(transport_factory)),
      callbacks_(callbacks) {
  file_event_ = dispatcher_.createFileEvent(
      socket_.fd(), [this](uint32_t) { onAcceptReady(); }, 0);
  backoff_timer_ = dispatcher_.createTimer([this] {
    WAYSTONE_LOG(info, conn_handler, "listener %s: resuming accept after backoff",
                 socket_.localAddress()->asString());
    updateEvents();
  });
  updateEvents();
}

void ListenerImpl::disable() {
  enabled_ = false;
  updateEvents();
}

void ListenerImpl::enable() {
  enabled_ = true;
  updateEvents();
}

void ListenerImpl::updateEvents() {
  const bool want = enabled_ && !backoff_timer_->enabled() && socket_.fd() >= 0;
  if (want != listening_) {
    listening_ = want;
    file_event_->setEnabled(want ? event::FileReadyType::kRead : 0);
  }
}

void ListenerImpl::onAcceptReady() {
  const bool is_ip = socket_.localAddress()->type() == address::Type::Ip;
  for (int i = 0; i < kMaxAcceptsPerEvent && listening_; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(socket_.fd(), reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return;
      }
      if (error == EINTR || error == ECONNABORTED) {
        continue;  // that one connection is gone; others may be waiting
      }
      if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        // The socket stays readable while we cannot accept: pause rather than spin.
        WAYSTONE_LOG(warn, conn_handler, "listener %s: accept failed (%s), pausing for %d ms",
                     socket_.localAddress()->asString(), std::strerror(error),
                     kAcceptBackoff.count());
        backoff_timer_->enableTimer(kAcceptBackoff);
        updateEvents();
        return;
      }
      WAYSTONE_LOG(error, conn_handler, "listener %s: accept failed: %s",
                   socket_.localAddress()->asString(), std::strerror(error));
      return;
    }
    auto remote = address::fromSockAddr(ss, len);
    if (!remote.ok()) {
      WAYSTONE_LOG(warn, conn_handler, "listener %s: dropping connection: %s",
                   socket_.localAddress()->asString(), remote.status().message());
      ::close(fd);
      continue;
    }
    // For a wildcard listener (and for original-destination lookups) the local address is the
    // one the client actually connected to.
    address::InstanceConstSharedPtr local = socket_.localAddress();
    if (is_ip) {
      auto bound = address::localAddressFromFd(fd);
      if (bound.ok()) {
        local = *std::move(bound);
      }
    }
    ConnectionSocketPtr socket = std::make_unique<TcpConnectionSocket>(
        dispatcher_, fd, std::move(local), *std::move(remote));
    WAYSTONE_LOG(debug, conn_handler, "accepted socket from %s on %s",
                 socket->remoteAddress()->asString(), socket->localAddress()->asString());
    if (callbacks_.onAcceptSocket(socket)) {
      continue;
    }
    callbacks_.onAccept(
        socket->createConnection(dispatcher_, transport_factory_ ? transport_factory_() : nullptr));
  }
}

}  // namespace waystone::network
