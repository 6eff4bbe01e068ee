#include "source/common/network/internal/internal_connection_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"
#include "source/common/network/internal/internal_connection_socket.h"
#include "source/common/network/internal/internal_listener_registry.h"

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

}  // namespace

InternalConnectionImpl::InternalConnectionImpl(event::Dispatcher& dispatcher,
                                               std::shared_ptr<InternalPipe> pipe,
                                               address::InstanceConstSharedPtr local_address,
                                               address::InstanceConstSharedPtr remote_address,
                                               stream_info::StreamInfo stream_info)
    : InternalConnectionImpl(dispatcher, InternalPipe::Side::Server, std::move(pipe),
                             std::move(local_address), std::move(remote_address),
                             std::move(stream_info)) {}

InternalConnectionImpl::InternalConnectionImpl(event::Dispatcher& dispatcher,
                                               InternalPipe::Side side,
                                               std::shared_ptr<InternalPipe> pipe,
                                               address::InstanceConstSharedPtr local_address,
                                               address::InstanceConstSharedPtr remote_address,
                                               stream_info::StreamInfo stream_info)
    : dispatcher_(dispatcher),
      id_(nextConnectionId()),
      side_(side),
      pipe_(std::move(pipe)),
      local_address_(std::move(local_address)),
      remote_address_(std::move(remote_address)),
      stream_info_(std::move(stream_info)) {
  stream_info_.downstream_remote_address = remote_address_;
  stream_info_.downstream_local_address = local_address_;
  stream_info_.downstream_ssl = nullptr;
  deferred_timer_ = dispatcher_.createTimer([this] { onDeferredWork(); });
  pipe_->attach(side_, this);
  if (hasInput()) {
    // The server half of a socket whose client already wrote or closed.
    scheduleWork();
  }
}

InternalConnectionImpl::~InternalConnectionImpl() {
  if (state_ != State::Closed) {
    // Torn down without close(): our callbacks hear nothing, the peer sees a close.
    pipe_->detach(side_);
  }
}

void InternalConnectionImpl::setReadCallback(ReadCallback* cb) {
  read_callback_ = cb;
  if (cb != nullptr && hasInput()) {
    scheduleWork();
  }
}

void InternalConnectionImpl::write(buffer::Instance& data, bool end_stream) {
  if (state_ != State::Open || write_end_stream_) {
    // Nothing can be sent any more; the caller's data is consumed so that it does not linger.
    WAYSTONE_LOG(trace, connection, "[C%d] dropping write of %d bytes after close", id_,
                 data.length());
    data.drain(data.length());
    return;
  }
  if (peerGone()) {
    // A kernel socket would fail with EPIPE: drop, and close from the loop.
    WAYSTONE_LOG(trace, connection, "[C%d] dropping write of %d bytes: internal peer closed", id_,
                 data.length());
    data.drain(data.length());
    wrote_to_gone_peer_ = true;
    scheduleWork();
    return;
  }
  if (data.length() == 0 && !end_stream) {
    return;
  }
  bytes_written_ += data.length();
  write_end_stream_ = end_stream;
  pipe_->write(side_, data, end_stream);
  checkHighWatermark();
  if (end_stream && read_eof_delivered_) {
    // Both directions are done: close as ConnectionImpl does, from the loop.
    scheduleWork();
  }
}

void InternalConnectionImpl::close(ConnectionCloseType type) {
  if (state_ == State::Closed) {
    return;
  }
  // Both types: nothing is buffered on this side (see the class comment).
  (void)type;
  closeNow(ConnectionEvent::LocalClose);
}

void InternalConnectionImpl::readDisable(bool disable) {
  if (state_ == State::Closed) {
    return;
  }
  if (disable) {
    ++read_disable_count_;
    return;
  }
  WAYSTONE_ASSERT(read_disable_count_ > 0, "readDisable(false) without readDisable(true)");
  if (read_disable_count_ == 0) {
    return;
  }
  if (--read_disable_count_ == 0 && hasInput()) {
    scheduleWork();
  }
}

void InternalConnectionImpl::setBufferLimits(uint32_t limit) {
  buffer_limit_ = limit;
  if (state_ == State::Closed) {
    return;
  }
  if (limit == 0) {
    if (above_high_watermark_) {
      // No limit any more: a paused producer must not stay paused forever.
      above_high_watermark_ = false;
      for (size_t i = 0; i < callbacks_.size(); ++i) {
        callbacks_[i]->onBelowWriteBufferLowWatermark();
      }
    }
    return;
  }
  checkHighWatermark();
  checkLowWatermark();
}

void InternalConnectionImpl::scheduleRefusal(std::string reason) {
  if (state_ == State::Closed) {
    return;
  }
  failure_reason_ = std::move(reason);
  refused_ = true;
  scheduleWork();
}

bool InternalConnectionImpl::hasInput() const {
  if (read_eof_delivered_) {
    return false;
  }
  const InternalPipe::Direction& incoming = pipe_->towards(side_);
  return read_buffer_.length() > 0 || incoming.pending.length() > 0 || incoming.end_stream ||
         peerGone();
}

void InternalConnectionImpl::scheduleWork() {
  if (state_ != State::Closed && !deferred_timer_->enabled()) {
    deferred_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

void InternalConnectionImpl::onPeerActivity() { scheduleWork(); }

void InternalConnectionImpl::onDeferredWork() {
  if (state_ == State::Closed) {
    return;
  }
  if (refused_) {
    closeNow(ConnectionEvent::RemoteClose);
    return;
  }
  deliver();
  if (state_ == State::Closed) {
    return;
  }
  if (!read_eof_delivered_ && peerGone() && canRead()) {
    // The peer went away during the delivery (the reader closed it, say): its end of stream is
    // due now.
    deliver();
    if (state_ == State::Closed) {
      return;
    }
  }
  if (read_eof_delivered_ && (write_end_stream_ || peerGone())) {
    // Both directions closed, or the peer closed and everything it sent was delivered.
    closeNow(ConnectionEvent::RemoteClose);
    return;
  }
  if (peerGone() && !canRead() && read_buffer_.length() == 0 &&
      pipe_->towards(side_).pending.length() == 0) {
    // The peer closed and no data of it waits for this paused (or callback-less) reader: there
    // is nothing to wait for (a listener that rejected the socket, for instance).
    closeNow(ConnectionEvent::RemoteClose);
    return;
  }
  if (wrote_to_gone_peer_) {
    failure_reason_ = "internal peer closed";
    closeNow(ConnectionEvent::RemoteClose);
  }
}

void InternalConnectionImpl::deliver() {
  if (!canRead() || read_eof_delivered_) {
    return;
  }
  InternalPipe::Direction& incoming = pipe_->towards(side_);
  const uint64_t arrived = incoming.pending.length();
  if (arrived > 0) {
    // Relinks the writer's slices into our read buffer.
    read_buffer_.move(incoming.pending);
    bytes_read_ += arrived;
  }
  const bool end_stream = incoming.end_stream || peerGone();
  if (read_buffer_.length() == 0 && !end_stream) {
    return;
  }
  read_eof_delivered_ = end_stream;
  delivering_ = true;
  read_callback_->onData(read_buffer_, end_stream);
  delivering_ = false;
  if (state_ == State::Closed) {
    // Closed from inside onData(): the reader was still parsing read_buffer_ then, so its
    // leftovers are dropped only now.
    read_buffer_.drain(read_buffer_.length());
    return;
  }
  // The reader drained what it consumed: the writer may be below its low watermark now.
  if (InternalPipe::Endpoint* writer = pipe_->endpoint(peerSide()); writer != nullptr) {
    writer->onPeerConsumed();
  }
}

void InternalConnectionImpl::onPeerConsumed() { checkLowWatermark(); }

void InternalConnectionImpl::checkHighWatermark() {
  if (state_ == State::Closed || buffer_limit_ == 0 || above_high_watermark_ ||
      pipe_->unconsumedBy(side_) <= buffer_limit_) {
    return;
  }
  WAYSTONE_LOG(trace, connection, "[C%d] internal write buffer above high watermark", id_);
  above_high_watermark_ = true;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onAboveWriteBufferHighWatermark();
  }
}

void InternalConnectionImpl::checkLowWatermark() {
  if (state_ == State::Closed || !above_high_watermark_ ||
      pipe_->unconsumedBy(side_) > buffer_limit_ / 2) {
    return;
  }
  WAYSTONE_LOG(trace, connection, "[C%d] internal write buffer below low watermark", id_);
  above_high_watermark_ = false;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onBelowWriteBufferLowWatermark();
  }
}

void InternalConnectionImpl::closeNow(ConnectionEvent event) {
  if (state_ == State::Closed) {
    return;
  }
  WAYSTONE_LOG(debug, connection,
               "[C%d] internal connection closing (%s), read %d written %d bytes", id_,
               eventName(event), bytes_read_, bytes_written_);
  state_ = State::Closed;
  deferred_timer_->disableTimer();
  // Unread input is nobody's any more; what we wrote stays in the pipe for the peer. Not while
  // the reader is inside onData() with this very buffer (a codec closing the connection from a
  // parse callback): deliver() drops it when onData() returns.
  if (!delivering_) {
    read_buffer_.drain(read_buffer_.length());
  }
  pipe_->detach(side_);
  raiseToCallbacks(event);
}

void InternalConnectionImpl::raiseToCallbacks(ConnectionEvent event) {
  // By index: a callback may add callbacks while we iterate.
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    callbacks_[i]->onEvent(event);
  }
}

InternalClientConnectionImpl::InternalClientConnectionImpl(
    event::Dispatcher& dispatcher, address::InstanceConstSharedPtr remote_address,
    InternalConnectionOptions options, std::string refusal)
    : InternalConnectionImpl(dispatcher, InternalPipe::Side::Client,
                             std::make_shared<InternalPipe>(), internalClientAddress(),
                             std::move(remote_address), stream_info::StreamInfo()),
      options_(std::move(options)),
      refusal_(std::move(refusal)) {
  connect_timer_ = this->dispatcher().createTimer([this] { onConnect(); });
}

void InternalClientConnectionImpl::connect() {
  if (connect_called_ || state() != State::Open) {
    return;
  }
  connect_called_ = true;
  WAYSTONE_ASSERT(dispatcher().isThreadSafe(), "internal connect from another thread");
  WAYSTONE_LOG(debug, connection, "[C%d] connecting to %s", id(), remoteAddress()->asString());
  // On the next iteration: the caller is still setting up, and a connect never reports inside
  // connect() (nor does ConnectionImpl's).
  connect_timer_->enableTimer(std::chrono::milliseconds(0));
}

void InternalClientConnectionImpl::onConnect() {
  if (state() != State::Open) {
    return;
  }
  if (!refusal_.empty()) {
    setFailureReason(std::move(refusal_));
    closeNow(ConnectionEvent::RemoteClose);
    return;
  }
  const address::EnvoyInternalAddress* internal = remoteAddress()->envoyInternalAddress();
  InternalListenerCallbacks* listener =
      InternalListenerRegistry::get().find(internal->serverListenerName());
  if (listener == nullptr) {
    setFailureReason(
        absl::StrCat("no internal listener named \"", internal->serverListenerName(), "\""));
    WAYSTONE_LOG(debug, connection, "[C%d] %s", id(), transportFailureReason());
    closeNow(ConnectionEvent::RemoteClose);
    return;
  }
  auto socket = std::make_unique<InternalConnectionSocket>(dispatcher(), pipe(), remoteAddress(),
                                                           localAddress());
  socket->streamInfo().filter_state->addSharedFromDownstream(options_.shared_filter_state);
  socket->streamInfo().dynamic_metadata = std::move(options_.metadata);
  options_ = InternalConnectionOptions();
  WAYSTONE_LOG(debug, connection, "[C%d] connected to %s", id(), remoteAddress()->asString());
  listener->onAccept(std::move(socket));
  if (state() == State::Open) {
    raiseToCallbacks(ConnectionEvent::Connected);
  }
}

}  // namespace waystone::network
