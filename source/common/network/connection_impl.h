#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/buffer/watermark_buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/transport_socket.h"

namespace waystone::network {

// A non-blocking stream connection over one socket on one dispatcher thread.
//
// I/O: a level-triggered FileEvent. On readable, up to bufferLimit() bytes (64 KiB per event with
// no limit) are read into the read buffer and handed to ReadCallback::onData(). When the read
// buffer is above the limit (the consumer is not draining it), reading pauses until it drains to
// half the limit. Without a read callback data accumulates the same way and is delivered when one
// is set. write() moves data into the write buffer and writes at once; the rest goes when the
// socket is writable. The write buffer's watermarks (high = bufferLimit(), low = half) are reported
// to every ConnectionCallbacks.
//
// Half-close: write(data, true) shuts the write side down after the data is flushed; the peer's
// EOF is delivered once as onData(..., end_stream = true). When both directions are closed the
// connection closes with RemoteClose.
//
// Close: close(NoFlush) closes now; close(FlushWrite) stops reading, flushes, then closes; the
// delayed-close timer (1 s by default, re-armed by each successful write) closes it anyway if the
// peer stops reading. Either way LocalClose is raised. Errors (ECONNRESET, EPIPE, ...) and the
// peer's reset raise RemoteClose. Each close raises exactly one event to every callback.
//
// Callbacks run on the dispatcher thread and may call any method, including close(), but must
// never destroy the connection directly: use Dispatcher::deferredDelete(). Nothing is raised
// re-entrantly from write(): a write error found there closes the connection on the next loop
// iteration. Destroying an open connection closes the socket without raising any event.
class ConnectionImpl : public virtual Connection, protected TransportSocketCallbacks {
 public:
  static constexpr uint32_t kDefaultBufferLimit = 1024 * 1024;
  static constexpr std::chrono::milliseconds kDefaultDelayedCloseTimeout{1000};

  // An accepted (already connected, non-blocking) socket. Takes ownership of `fd`. A null
  // `transport` means RawTransport.
  ConnectionImpl(event::Dispatcher& dispatcher, int fd,
                 address::InstanceConstSharedPtr remote_address,
                 address::InstanceConstSharedPtr local_address,
                 TransportSocketPtr transport = nullptr);
  ~ConnectionImpl() override;

  ConnectionImpl(const ConnectionImpl&) = delete;
  ConnectionImpl& operator=(const ConnectionImpl&) = delete;

  // Connection
  uint64_t id() const override { return id_; }
  void addConnectionCallbacks(ConnectionCallbacks& cb) override;
  void setReadCallback(ReadCallback* cb) override;
  void write(buffer::Instance& data, bool end_stream) override;
  void close(ConnectionCloseType type) override;
  State state() const override { return state_; }
  void readDisable(bool disable) override;
  bool readEnabled() const override { return read_disable_count_ == 0; }
  void setBufferLimits(uint32_t limit) override;
  uint32_t bufferLimit() const override { return buffer_limit_; }
  bool aboveHighWatermark() const override { return write_buffer_.highWatermarkTriggered(); }
  const address::InstanceConstSharedPtr& remoteAddress() const override { return remote_address_; }
  const address::InstanceConstSharedPtr& localAddress() const override { return local_address_; }
  uint64_t bytesRead() const override { return bytes_read_; }
  uint64_t bytesWritten() const override { return bytes_written_; }
  absl::string_view transportFailureReason() const override;
  const tls::ConnectionInfo* ssl() const override;
  stream_info::StreamInfo& streamInfo() override { return stream_info_; }
  const stream_info::StreamInfo& streamInfo() const override { return stream_info_; }

  // How long close(FlushWrite) waits without write progress before closing anyway; 0 waits
  // forever.
  void setDelayedCloseTimeout(std::chrono::milliseconds timeout) {
    delayed_close_timeout_ = timeout;
  }
  // The ALPN protocol of the transport (empty for raw sockets).
  absl::string_view nextProtocol() const { return transport_->protocol(); }

  // The socket (-1 once closed), e.g. for socket options. Also TransportSocketCallbacks::fd().
  int fd() const override { return fd_; }

 protected:
  // For ClientConnectionImpl: a connection whose socket is created (adoptSocket) and connected
  // later. `fd` may be -1.
  ConnectionImpl(event::Dispatcher& dispatcher, int fd,
                 address::InstanceConstSharedPtr remote_address,
                 address::InstanceConstSharedPtr local_address, TransportSocketPtr transport,
                 bool connecting);

  // Takes ownership of `fd` and registers it with the dispatcher (no events yet while
  // connecting).
  void adoptSocket(int fd);
  // Starts waiting for the non-blocking connect() to complete.
  void onConnectStarted();
  // Closes on the next loop iteration (never re-entrantly from the caller's stack).
  void scheduleClose(ConnectionEvent event, std::string reason);
  void setLocalAddress(address::InstanceConstSharedPtr address) {
    local_address_ = std::move(address);
    stream_info_.downstream_local_address = local_address_;
  }
  event::Dispatcher& dispatcher() { return dispatcher_; }
  void setFailureReason(std::string reason) { failure_reason_ = std::move(reason); }
  bool hasFailureReason() const { return !failure_reason_.empty(); }

  // TransportSocketCallbacks
  Connection& connection() override { return *this; }
  bool shouldDrainReadBuffer() override { return read_buffer_.highWatermarkTriggered(); }
  void raiseEvent(ConnectionEvent event) override;

 private:
  void onFileEvent(uint32_t events);
  void onConnectComplete();
  void onReadReady();
  void onWriteReady();
  void onDeferredWork();
  // Writes what the socket takes. Returns the event to close with if the connection must close.
  std::optional<ConnectionEvent> flush();
  // Calls onData() if there is something to deliver and the consumer can take it.
  void dispatchRead();
  bool bothSidesClosed() const { return write_shutdown_ && read_eof_delivered_; }
  bool shouldRead() const;
  void scheduleDelivery();
  // Re-registers the file event for what the connection wants now (only when it changes).
  void updateEvents();
  void closeSocket(ConnectionEvent event);
  void raiseToCallbacks(ConnectionEvent event);
  void onWriteBufferHighWatermark();
  void onWriteBufferLowWatermark();

  event::Dispatcher& dispatcher_;
  const uint64_t id_;
  int fd_;
  address::InstanceConstSharedPtr remote_address_;
  address::InstanceConstSharedPtr local_address_;
  TransportSocketPtr transport_;
  // Watermarks on the read buffer pause reading (see shouldDrainReadBuffer); on the write buffer
  // they are reported to the callbacks.
  buffer::WatermarkBuffer read_buffer_;
  buffer::WatermarkBuffer write_buffer_;
  std::vector<ConnectionCallbacks*> callbacks_;
  ReadCallback* read_callback_ = nullptr;
  event::FileEventPtr file_event_;
  uint32_t enabled_events_ = 0;
  // Zero-delay timer for work that must not run on the caller's stack (scheduled close, delivery
  // of buffered data after readDisable(false) or setReadCallback()).
  event::TimerPtr deferred_timer_;
  event::TimerPtr delayed_close_timer_;
  std::chrono::milliseconds delayed_close_timeout_ = kDefaultDelayedCloseTimeout;
  std::optional<ConnectionEvent> pending_close_;
  std::string failure_reason_;
  stream_info::StreamInfo stream_info_;
  State state_ = State::Open;
  uint32_t buffer_limit_ = kDefaultBufferLimit;
  uint32_t read_disable_count_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
  bool connecting_ = false;       // a client connection not yet connected
  bool connect_started_ = false;  // ... whose connect() was called
  bool pending_delivery_ = false;
  bool read_eof_ = false;            // the transport saw the peer's end of stream
  bool read_eof_delivered_ = false;  // ... and onData(..., true) was called
  bool write_end_stream_ = false;    // write(..., true) was called
  bool write_shutdown_ = false;      // ... and the write side is shut down
};

// An outgoing connection: connect() starts a non-blocking connect to the remote address, from
// `source_address` when given. Completion raises Connected; failure (refused, unreachable, bind
// error) raises RemoteClose, with the errno text in transportFailureReason(). Data written before
// Connected is buffered and sent once connected.
class ClientConnectionImpl final : public ConnectionImpl, public ClientConnection {
 public:
  ClientConnectionImpl(event::Dispatcher& dispatcher,
                       address::InstanceConstSharedPtr remote_address,
                       address::InstanceConstSharedPtr source_address,
                       TransportSocketPtr transport = nullptr);

  // ClientConnection
  void connect() override;

 private:
  bool connect_called_ = false;
};

// A ClientConnectionImpl; for an internal address (Type::Internal), an internal connection with no
// options instead (createInternalClientConnection()).
ClientConnectionPtr createClientConnection(event::Dispatcher& dispatcher,
                                           address::InstanceConstSharedPtr remote,
                                           address::InstanceConstSharedPtr source = nullptr,
                                           TransportSocketPtr transport = nullptr);

}  // namespace waystone::network
