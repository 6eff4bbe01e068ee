#include "source/common/network/tcp_connection_socket.h"

#include <unistd.h>

#include <cerrno>

#include <sys/socket.h>

#include "source/common/network/connection_impl.h"

namespace waystone::network {

TcpConnectionSocket::TcpConnectionSocket(event::Dispatcher& dispatcher, int fd,
                                         address::InstanceConstSharedPtr local_address,
                                         address::InstanceConstSharedPtr remote_address)
    : ConnectionSocket(std::move(local_address), std::move(remote_address)),
      dispatcher_(dispatcher),
      fd_(fd) {}

TcpConnectionSocket::~TcpConnectionSocket() {
  file_event_.reset();  // unregister before the descriptor goes
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

ConnectionSocket::PeekResult TcpConnectionSocket::peek(uint64_t max_bytes) {
  PeekResult result;
  if (fd_ < 0) {
    result.end_stream = true;
    return result;
  }
  peeked_.resize(max_bytes);
  ssize_t n;
  do {
    n = ::recv(fd_, peeked_.data(), max_bytes, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    peeked_.clear();
    // EAGAIN: nothing yet. Anything else (ECONNRESET): the peer is gone.
    result.end_stream = errno != EAGAIN && errno != EWOULDBLOCK;
    return result;
  }
  peeked_.resize(static_cast<size_t>(n));
  result.data = peeked_;
  // A zero-byte peek on a readable socket is the peer's FIN; with bytes pending, only
  // EPOLLRDHUP tells (peer_closed_).
  result.end_stream = peer_closed_ || (n == 0 && max_bytes > 0);
  return result;
}

void TcpConnectionSocket::waitForData(std::function<void()> cb) {
  wait_cb_ = std::move(cb);
  if (file_event_ != nullptr) {
    return;
  }
  // Edge-triggered and registered once: peeking never drains the socket, so a level-triggered
  // event would fire for the same bytes forever. Registering reports bytes already there, and
  // every later arrival or the peer's FIN (EPOLLRDHUP, which a peek cannot see behind pending
  // bytes) wakes us once.
  file_event_ = dispatcher_.createFileEvent(
      fd_,
      [this](uint32_t events) {
        if (events & event::FileReadyType::kClosed) {
          peer_closed_ = true;
        }
        auto cb = std::move(wait_cb_);
        wait_cb_ = nullptr;
        if (cb) {
          cb();
        }
      },
      event::FileReadyType::kRead | event::FileReadyType::kClosed |
          event::FileReadyType::kEdgeTriggered);
}

void TcpConnectionSocket::cancelWait() { wait_cb_ = nullptr; }

ConnectionPtr TcpConnectionSocket::createConnection(event::Dispatcher& dispatcher,
                                                    TransportSocketPtr transport) {
  file_event_.reset();
  wait_cb_ = nullptr;
  const int fd = fd_;
  fd_ = -1;
  auto connection = std::make_unique<ConnectionImpl>(dispatcher, fd, remoteAddress(),
                                                     localAddress(), std::move(transport));
  stream_info::StreamInfo info = takeStreamInfo();
  connection->streamInfo().filter_state = std::move(info.filter_state);
  connection->streamInfo().dynamic_metadata = std::move(info.dynamic_metadata);
  connection->streamInfo().downstream_local_address_restored =
      info.downstream_local_address_restored;
  return connection;
}

}  // namespace waystone::network
