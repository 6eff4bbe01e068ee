#include "source/common/network/internal/internal_connection_socket.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"
#include "source/common/network/internal/internal_connection_impl.h"

namespace waystone::network {

InternalConnectionSocket::InternalConnectionSocket(event::Dispatcher& dispatcher,
                                                   std::shared_ptr<InternalPipe> pipe,
                                                   address::InstanceConstSharedPtr local_address,
                                                   address::InstanceConstSharedPtr remote_address)
    : ConnectionSocket(std::move(local_address), std::move(remote_address)),
      pipe_(std::move(pipe)) {
  wait_timer_ = dispatcher.createTimer([this] {
    std::function<void()> cb = std::move(wait_cb_);
    wait_cb_ = nullptr;
    if (cb) {
      cb();  // may destroy this socket: nothing after it
    }
  });
  pipe_->attach(InternalPipe::Side::Server, this);
}

InternalConnectionSocket::~InternalConnectionSocket() {
  if (pipe_ != nullptr) {
    // Rejected before it became a connection: the client sees the server side close.
    pipe_->detach(InternalPipe::Side::Server);
  }
}

bool InternalConnectionSocket::clientFinished() const {
  return pipe_ == nullptr || pipe_->gone(InternalPipe::Side::Client) ||
         pipe_->towards(InternalPipe::Side::Server).end_stream;
}

ConnectionSocket::PeekResult InternalConnectionSocket::peek(uint64_t max_bytes) {
  PeekResult result;
  result.end_stream = clientFinished();
  if (pipe_ == nullptr) {
    return result;
  }
  buffer::OwnedImpl& pending = pipe_->towards(InternalPipe::Side::Server).pending;
  const uint64_t length = std::min<uint64_t>(max_bytes, pending.length());
  if (length > 0) {
    // Makes the first bytes one slice (copies only if the client wrote them in pieces); the
    // data stays in the pipe for the connection to read.
    result.data = pending.linearize(length);
  }
  return result;
}

void InternalConnectionSocket::waitForData(std::function<void()> cb) {
  wait_cb_ = std::move(cb);
  wait_timer_->disableTimer();
  if (clientFinished()) {
    // Nothing more will come: answer now rather than never.
    wait_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

void InternalConnectionSocket::cancelWait() {
  wait_cb_ = nullptr;
  wait_timer_->disableTimer();
}

void InternalConnectionSocket::onPeerActivity() {
  if (wait_cb_ && !wait_timer_->enabled()) {
    wait_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

ConnectionPtr InternalConnectionSocket::createConnection(event::Dispatcher& dispatcher,
                                                         TransportSocketPtr transport) {
  WAYSTONE_RELEASE_ASSERT(pipe_ != nullptr, "createConnection() called twice");
  WAYSTONE_ASSERT(dispatcher.isThreadSafe(), "internal connection on another thread");
  cancelWait();
  auto connection = std::make_unique<InternalConnectionImpl>(
      dispatcher, std::move(pipe_), localAddress(), remoteAddress(), takeStreamInfo());
  if (transport != nullptr) {
    std::string reason =
        "an internal connection runs no transport socket (the internal listener's filter chain "
        "must not set transport_socket)";
    WAYSTONE_LOG(error, connection, "[C%d] %s", connection->id(), reason);
    connection->scheduleRefusal(std::move(reason));
  }
  return connection;
}

}  // namespace waystone::network
