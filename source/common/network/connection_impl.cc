#include "source/common/network/connection_impl.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"
#include "source/common/network/internal/internal_connection.h"
#include "source/common/network/raw_transport.h"
#include "source/common/tls/connection_info.h"

namespace waystone::network {
namespace {

const char* eventName(ConnectionEvent event) {
  switch (event) {
    case ConnectionEvent::RemoteClose:
      return "RemoteClose";
    case ConnectionEvent::LocalClose:
      return "LocalClose";
    case ConnectionEvent::Connected:
      return "Connected";
  }
  return "?";
}

// A placeholder local address until the kernel assigns one: the unspecified address of the
// remote's family.
address::InstanceConstSharedPtr unspecifiedLike(const address::Instance& remote) {
  sockaddr_storage ss{};
  ss.ss_family = remote.sockAddr()->sa_family;
  socklen_t len = sizeof(sa_family_t);
  if (ss.ss_family == AF_INET) {
    len = sizeof(sockaddr_in);
  } else if (ss.ss_family == AF_INET6) {
    len = sizeof(sockaddr_in6);
  }
  auto address = address::fromSockAddr(ss, len);
  return address.ok() ? *address : nullptr;
}

}  // namespace

ConnectionImpl::ConnectionImpl(event::Dispatcher& dispatcher, int fd,
                               address::InstanceConstSharedPtr remote_address,
                               address::InstanceConstSharedPtr local_address,
                               TransportSocketPtr transport)
    : ConnectionImpl(dispatcher, fd, std::move(remote_address), std::move(local_address),
                     std::move(transport), /*connecting=*/false) {}

ConnectionImpl::ConnectionImpl(event::Dispatcher& dispatcher, int fd,
                               address::InstanceConstSharedPtr remote_address,
                               address::InstanceConstSharedPtr local_address,
                               TransportSocketPtr transport, bool connecting)
    : dispatcher_(dispatcher),
      id_(nextConnectionId()),
      fd_(-1),
      remote_address_(std::move(remote_address)),
      local_address_(std::move(local_address)),
      transport_(transport != nullptr ? std::move(transport) : std::make_unique<RawTransport>()),
      read_buffer_([this] { updateEvents(); }, [this] { updateEvents(); }),
      write_buffer_([this] { onWriteBufferLowWatermark(); },
                    [this] { onWriteBufferHighWatermark(); }),
      connecting_(connecting) {
  transport_->setTransportSocketCallbacks(*this);
  stream_info_.downstream_remote_address = remote_address_;
  stream_info_.downstream_local_address = local_address_;
  stream_info_.downstream_ssl = ssl();
  read_buffer_.setWatermarks(buffer_limit_);
  write_buffer_.setWatermarks(buffer_limit_);
  deferred_timer_ = dispatcher_.createTimer([this] { onDeferredWork(); });
  if (fd >= 0) {
    adoptSocket(fd);
  }
}

ConnectionImpl::~ConnectionImpl() {
  if (fd_ >= 0) {
    // Torn down without close(): nobody is told, but the socket must not leak. The file event
    // goes first so that libevent never watches a closed descriptor.
    file_event_.reset();
    ::close(fd_);
    fd_ = -1;
  }
}

void ConnectionImpl::adoptSocket(int fd) {
  fd_ = fd;
  if (remote_address_ != nullptr && remote_address_->type() == address::Type::Ip) {
    // Proxied protocols are latency-sensitive request/response traffic: no Nagle delay.
    const int one = 1;
    if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      WAYSTONE_LOG(debug, connection, "[C%d] TCP_NODELAY failed: %s", id_, std::strerror(errno));
    }
  }
  file_event_ = dispatcher_.createFileEvent(
      fd_, [this](uint32_t events) { onFileEvent(events); }, 0);
  updateEvents();
}

void ConnectionImpl::addConnectionCallbacks(ConnectionCallbacks& cb) { callbacks_.push_back(&cb); }

void ConnectionImpl::setReadCallback(ReadCallback* cb) {
  read_callback_ = cb;
  if (cb != nullptr && (read_buffer_.length() > 0 || (read_eof_ && !read_eof_delivered_))) {
    scheduleDelivery();
  }
}

absl::string_view ConnectionImpl::transportFailureReason() const {
  if (!failure_reason_.empty()) {
    return failure_reason_;
  }
  return transport_->failureReason();
}

void ConnectionImpl::setBufferLimits(uint32_t limit) {
  buffer_limit_ = limit;
  read_buffer_.setWatermarks(limit);
  write_buffer_.setWatermarks(limit);
  updateEvents();
}

void ConnectionImpl::write(buffer::Instance& data, bool end_stream) {
  if (state_ != State::Open || write_end_stream_ || pending_close_.has_value()) {
    // Nothing can be sent any more; the caller's data is consumed so that it does not linger.
    WAYSTONE_LOG(trace, connection, "[C%d] dropping write of %d bytes after close", id_,
                 data.length());
    data.drain(data.length());
    return;
  }
  write_buffer_.move(data);
  write_end_stream_ = end_stream;
  if (connecting_ || fd_ < 0) {
    return;  // sent when connected
  }
  if (std::optional<ConnectionEvent> close_event = flush(); close_event.has_value()) {
    // Not from here: the caller is in the middle of its own work.
    scheduleClose(*close_event, "");
    return;
  }
  updateEvents();
}

void ConnectionImpl::close(ConnectionCloseType type) {
  if (state_ == State::Closed) {
    return;
  }
  if (type == ConnectionCloseType::FlushWrite) {
    if (state_ == State::Closing) {
      return;  // already flushing
    }
    if (!connecting_ && fd_ >= 0 && !pending_close_.has_value() && write_buffer_.length() > 0) {
      WAYSTONE_LOG(debug, connection, "[C%d] closing after flushing %d bytes", id_,
                   write_buffer_.length());
      state_ = State::Closing;
      if (delayed_close_timeout_.count() > 0) {
        delayed_close_timer_ = dispatcher_.createTimer([this] {
          WAYSTONE_LOG(debug, connection, "[C%d] delayed close timed out", id_);
          closeSocket(ConnectionEvent::LocalClose);
        });
        delayed_close_timer_->enableTimer(delayed_close_timeout_);
      }
      updateEvents();
      return;
    }
  }
  closeSocket(ConnectionEvent::LocalClose);
}

void ConnectionImpl::readDisable(bool disable) {
  if (state_ == State::Closed) {
    return;
  }
  if (disable) {
    if (++read_disable_count_ == 1) {
      updateEvents();
    }
    return;
  }
  WAYSTONE_ASSERT(read_disable_count_ > 0, "readDisable(false) without readDisable(true)");
  if (read_disable_count_ == 0) {
    return;
  }
  if (--read_disable_count_ == 0) {
    updateEvents();
    if (read_buffer_.length() > 0 || (read_eof_ && !read_eof_delivered_)) {
      scheduleDelivery();
    }
  }
}

void ConnectionImpl::raiseEvent(ConnectionEvent event) {
  if (event == ConnectionEvent::Connected) {
    raiseToCallbacks(event);
    return;
  }
  closeSocket(event);
}

void ConnectionImpl::onConnectStarted() {
  connect_started_ = true;
  updateEvents();
}

void ConnectionImpl::scheduleClose(ConnectionEvent event, std::string reason) {
  if (state_ == State::Closed || pending_close_.has_value()) {
    return;
  }
  if (!reason.empty()) {
    failure_reason_ = std::move(reason);
  }
  pending_close_ = event;
  updateEvents();
  deferred_timer_->enableTimer(std::chrono::milliseconds(0));
}

void ConnectionImpl::scheduleDelivery() {
  pending_delivery_ = true;
  if (!deferred_timer_->enabled()) {
    deferred_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

void ConnectionImpl::onDeferredWork() {
  if (state_ == State::Closed) {
    return;
  }
  if (pending_close_.has_value()) {
    closeSocket(*pending_close_);
    return;
  }
  if (pending_delivery_) {
    pending_delivery_ = false;
    dispatchRead();
    if (state_ != State::Open) {
      return;
    }
    if (bothSidesClosed()) {
      closeSocket(ConnectionEvent::RemoteClose);
      return;
    }
    updateEvents();
  }
}

void ConnectionImpl::onFileEvent(uint32_t events) {
  if (state_ == State::Closed || pending_close_.has_value()) {
    return;
  }
  if (connecting_) {
    // Writable (or an error, which is reported as readable and writable) ends the connect.
    onConnectComplete();
    return;
  }
  if (events & event::FileReadyType::kWrite) {
    onWriteReady();
  }
  if (state_ == State::Closed) {
    return;
  }
  if (events & event::FileReadyType::kRead) {
    onReadReady();
  }
}

void ConnectionImpl::onConnectComplete() {
  int error = 0;
  socklen_t len = sizeof(error);
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
    error = errno;
  }
  if (error != 0) {
    failure_reason_ = std::strerror(error);
    WAYSTONE_LOG(debug, connection, "[C%d] connect to %s failed: %s", id_,
                 remote_address_->asString(), failure_reason_);
    closeSocket(ConnectionEvent::RemoteClose);
    return;
  }
  connecting_ = false;
  if (auto local = address::localAddressFromFd(fd_); local.ok()) {
    setLocalAddress(*std::move(local));
  }
  WAYSTONE_LOG(debug, connection, "[C%d] connected to %s", id_, remote_address_->asString());
  transport_->onConnected();
  if (state_ != State::Open) {
    return;
  }
  // Data written while connecting (and a FIN asked for then) goes now.
  if (write_buffer_.length() > 0 || write_end_stream_) {
    if (std::optional<ConnectionEvent> close_event = flush(); close_event.has_value()) {
      closeSocket(*close_event);
      return;
    }
  }
  updateEvents();
}

void ConnectionImpl::onReadReady() {
  if (!shouldRead()) {
    return;
  }
  // The budget keeps one busy connection from monopolising the loop.
  const uint64_t budget = buffer_limit_ > 0 ? buffer_limit_ : RawTransport::kMaxReadChunk;
  const IoResult result = transport_->doRead(read_buffer_, budget);
  bytes_read_ += result.bytes_processed;
  if (result.end_stream) {
    WAYSTONE_LOG(trace, connection, "[C%d] remote end of stream", id_);
    read_eof_ = true;
  }
  if (result.action == PostIoAction::Close) {
    // Whatever arrived before the error is still the consumer's.
    dispatchRead();
    closeSocket(state_ == State::Closing ? ConnectionEvent::LocalClose
                                         : ConnectionEvent::RemoteClose);
    return;
  }
  dispatchRead();
  if (state_ != State::Open) {
    return;
  }
  if (bothSidesClosed()) {
    closeSocket(ConnectionEvent::RemoteClose);
    return;
  }
  updateEvents();
}

void ConnectionImpl::onWriteReady() {
  if (std::optional<ConnectionEvent> close_event = flush(); close_event.has_value()) {
    closeSocket(*close_event);
    return;
  }
  updateEvents();
}

std::optional<ConnectionEvent> ConnectionImpl::flush() {
  if (write_shutdown_ && write_buffer_.length() == 0) {
    return bothSidesClosed() ? std::optional(ConnectionEvent::RemoteClose) : std::nullopt;
  }
  const IoResult result = transport_->doWrite(write_buffer_, write_end_stream_);
  bytes_written_ += result.bytes_processed;
  if (result.action == PostIoAction::Close) {
    // After close() the user asked for the close: it stays a LocalClose.
    return state_ == State::Closing ? ConnectionEvent::LocalClose : ConnectionEvent::RemoteClose;
  }
  if (state_ == State::Closing) {
    if (write_buffer_.length() == 0) {
      return ConnectionEvent::LocalClose;
    }
    if (result.bytes_processed > 0 && delayed_close_timer_ != nullptr) {
      // The peer is reading: give it another full timeout.
      delayed_close_timer_->enableTimer(delayed_close_timeout_);
    }
    return std::nullopt;
  }
  if (result.end_stream && !write_shutdown_) {
    WAYSTONE_LOG(trace, connection, "[C%d] write side shut down", id_);
    write_shutdown_ = true;
  }
  return bothSidesClosed() ? std::optional(ConnectionEvent::RemoteClose) : std::nullopt;
}

void ConnectionImpl::dispatchRead() {
  if (read_callback_ == nullptr || read_disable_count_ > 0 || state_ != State::Open ||
      read_eof_delivered_) {
    return;
  }
  const bool end_stream = read_eof_;
  if (read_buffer_.length() == 0 && !end_stream) {
    return;
  }
  read_eof_delivered_ = end_stream;
  read_callback_->onData(read_buffer_, end_stream);
}

bool ConnectionImpl::shouldRead() const {
  return state_ == State::Open && !connecting_ && fd_ >= 0 && !pending_close_.has_value() &&
         read_disable_count_ == 0 && !read_eof_ && !read_buffer_.highWatermarkTriggered();
}

void ConnectionImpl::updateEvents() {
  if (file_event_ == nullptr || state_ == State::Closed) {
    return;
  }
  uint32_t events = 0;
  if (pending_close_.has_value()) {
    events = 0;
  } else if (connecting_) {
    // An unconnected socket polls as writable: wait for connect() before asking.
    events = connect_started_ ? event::FileReadyType::kWrite : 0;
  } else {
    if (shouldRead()) {
      events |= event::FileReadyType::kRead;
    }
    // Level-triggered: ask for writability only while there is something the transport can
    // write now, or the transport itself needs it (a handshake flight).
    const bool has_output = write_buffer_.length() > 0 || (write_end_stream_ && !write_shutdown_);
    if ((has_output && transport_->canFlushWrite()) || transport_->wantsWriteEvent()) {
      events |= event::FileReadyType::kWrite;
    }
  }
  if (events != enabled_events_) {
    enabled_events_ = events;
    file_event_->setEnabled(events);
  }
}

void ConnectionImpl::closeSocket(ConnectionEvent event) {
  if (state_ == State::Closed) {
    return;
  }
  WAYSTONE_LOG(debug, connection, "[C%d] closing (%s), read %d written %d bytes", id_,
               eventName(event), bytes_read_, bytes_written_);
  state_ = State::Closed;
  pending_close_.reset();
  pending_delivery_ = false;
  deferred_timer_->disableTimer();
  if (delayed_close_timer_ != nullptr) {
    delayed_close_timer_->disableTimer();
  }
  if (file_event_ != nullptr) {
    // setEnabled(0) rather than reset(): this may run inside the file event's own callback.
    file_event_->setEnabled(0);
    enabled_events_ = 0;
  }
  transport_->closeSocket(event);
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  raiseToCallbacks(event);
}

void ConnectionImpl::raiseToCallbacks(ConnectionEvent event) {
  // By index: a callback may add callbacks while we iterate.
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onEvent(event);
  }
}

void ConnectionImpl::onWriteBufferHighWatermark() {
  WAYSTONE_LOG(trace, connection, "[C%d] write buffer above high watermark", id_);
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onAboveWriteBufferHighWatermark();
  }
}

void ConnectionImpl::onWriteBufferLowWatermark() {
  WAYSTONE_LOG(trace, connection, "[C%d] write buffer below low watermark", id_);
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onBelowWriteBufferLowWatermark();
  }
}

ClientConnectionImpl::ClientConnectionImpl(event::Dispatcher& dispatcher,
                                           address::InstanceConstSharedPtr remote_address,
                                           address::InstanceConstSharedPtr source_address,
                                           TransportSocketPtr transport)
    : ConnectionImpl(dispatcher, -1, remote_address,
                     source_address != nullptr ? source_address : unspecifiedLike(*remote_address),
                     std::move(transport), /*connecting=*/true) {
  const int fd = ::socket(remote_address->sockAddr()->sa_family,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    setFailureReason(absl::StrCat("socket: ", std::strerror(errno)));
    return;
  }
  adoptSocket(fd);
  if (source_address != nullptr) {
    if (source_address->type() == address::Type::Ip && source_address->port() == 0) {
      // Defer the port choice to connect(), so that the 4-tuple, not the source port alone, has
      // to be unique: many upstream connections from one source IP. Best effort.
      const int one = 1;
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
    if (::bind(fd, source_address->sockAddr(), source_address->sockAddrLen()) != 0) {
      setFailureReason(
          absl::StrCat("bind to ", source_address->asString(), ": ", std::strerror(errno)));
    }
  }
}

void ClientConnectionImpl::connect() {
  if (connect_called_ || state() != State::Open) {
    return;
  }
  connect_called_ = true;
  if (hasFailureReason() || fd() < 0) {
    WAYSTONE_LOG(debug, connection, "[C%d] cannot connect to %s: %s", id(),
                 remoteAddress()->asString(), transportFailureReason());
    scheduleClose(ConnectionEvent::RemoteClose, "");
    return;
  }
  WAYSTONE_LOG(debug, connection, "[C%d] connecting to %s", id(), remoteAddress()->asString());
  const int rc = ::connect(fd(), remoteAddress()->sockAddr(), remoteAddress()->sockAddrLen());
  if (rc != 0 && errno != EINPROGRESS) {
    // Unix sockets fail at once (ECONNREFUSED, ENOENT, EAGAIN for a full backlog).
    const int error = errno;
    scheduleClose(ConnectionEvent::RemoteClose, std::strerror(error));
    return;
  }
  if (auto local = address::localAddressFromFd(fd()); local.ok()) {
    setLocalAddress(*std::move(local));
  }
  // Completion (even an immediate one) is reported by writability.
  onConnectStarted();
}

const tls::ConnectionInfo* ConnectionImpl::ssl() const {
  return dynamic_cast<const tls::ConnectionInfo*>(transport_.get());
}

ClientConnectionPtr createClientConnection(event::Dispatcher& dispatcher,
                                           address::InstanceConstSharedPtr remote,
                                           address::InstanceConstSharedPtr source,
                                           TransportSocketPtr transport) {
  if (remote->type() == address::Type::Internal) {
    // An internal listener on this worker, reached without a socket (`source` does not apply).
    return createInternalClientConnection(dispatcher, std::move(remote),
                                          InternalConnectionOptions(), std::move(transport));
  }
  return std::make_unique<ClientConnectionImpl>(dispatcher, std::move(remote), std::move(source),
                                                std::move(transport));
}

}  // namespace waystone::network
