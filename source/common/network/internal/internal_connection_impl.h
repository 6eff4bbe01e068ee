#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/internal/internal_connection.h"
#include "source/common/network/internal/internal_pipe.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::network {

// One half of an in-process connection between an internal client (an upstream connection to an
// envoy_internal_address) and an internal listener on the same worker. It behaves as ConnectionImpl
// does to its users; the differences come from there being no kernel in between:
//
// Data: write() moves the buffer's slices into the pipe towards the peer (no byte is copied) and
// returns; the peer's onData() runs from the event loop on a later iteration, never inside
// write(). The peer's read buffer is its own, so what a writer does never changes a buffer the
// reader is looking at.
//
// Flow control: what the writer wrote and the peer has not consumed yet (still in the pipe, or in
// the peer's read buffer, not drained by its onData) is the writer's write buffer. Going above
// bufferLimit() raises onAboveWriteBufferHighWatermark() to the writer's callbacks (inside the
// write() that crossed it, as ConnectionImpl does) and aboveHighWatermark() turns true; once the
// peer's onData() has drained it to half the limit or less, onBelowWriteBufferLowWatermark() is
// raised. A writer that stops at the high watermark therefore never has more than limit + one
// write in flight. The reader's own limit plays no part (the writer's bounds the direction).
//
// Reading: readDisable() nests as in ConnectionImpl; while disabled, or without a read callback,
// nothing is delivered and data waits in the pipe (counted against the writer). Enabling again, or
// setting a read callback, delivers what is waiting on the next iteration.
//
// Half-close: write(data, true) ends this direction after `data`; the peer gets
// onData(..., end_stream = true) once, after the data. When a half has both delivered the peer's
// end of stream and ended its own writing, it closes with RemoteClose, as ConnectionImpl does.
//
// Close: close(FlushWrite) and close(NoFlush) both close this half at once and raise LocalClose
// synchronously. Neither drops what this half already wrote: an internal write hands the bytes
// over at once, like a kernel socket whose send buffer always has room, so there is no write
// buffer left to flush or to discard, and a kernel socket also delivers what it was handed before
// close(). The peer gets that data, then end_stream, then RemoteClose (a kernel peer would get
// FIN and then a reset on its next write; here its writes could never be read, so it is closed
// right away). A peer that is not reading (read disabled, no read callback) keeps the data waiting
// for it and learns of the close when it reads again; with nothing waiting it gets RemoteClose at
// once. What the peer sent this half and this half had not consumed is dropped. Writing to a half
// whose peer is gone drops the data and closes the writer with RemoteClose from the loop, after
// delivering what is still waiting for it if it is reading (a kernel socket gets EPIPE);
// transportFailureReason() is then "internal peer closed". The delayed-close timeout of
// ConnectionImpl has no counterpart: nothing waits. Peer closes are not failures: the reason stays
// empty.
//
// Counters: bytesWritten() counts what write() handed to the pipe, bytesRead() what was taken out
// of it for onData().
//
// Destroying a half that is not closed raises nothing to its own callbacks; its peer sees a close.
// Callbacks may call any method but must not destroy the connection directly: deferredDelete().
class InternalConnectionImpl : public virtual Connection, protected InternalPipe::Endpoint {
 public:
  // The server half, from InternalConnectionSocket::createConnection(). `stream_info` is the
  // socket's (shared filter state and metadata from the previous hop, what listener filters set).
  InternalConnectionImpl(event::Dispatcher& dispatcher, std::shared_ptr<InternalPipe> pipe,
                         address::InstanceConstSharedPtr local_address,
                         address::InstanceConstSharedPtr remote_address,
                         stream_info::StreamInfo stream_info);
  ~InternalConnectionImpl() override;

  InternalConnectionImpl(const InternalConnectionImpl&) = delete;
  InternalConnectionImpl& operator=(const InternalConnectionImpl&) = delete;

  // Connection
  uint64_t id() const override { return id_; }
  void addConnectionCallbacks(ConnectionCallbacks& cb) override { callbacks_.push_back(&cb); }
  void setReadCallback(ReadCallback* cb) override;
  void write(buffer::Instance& data, bool end_stream) override;
  void close(ConnectionCloseType type) override;
  State state() const override { return state_; }
  void readDisable(bool disable) override;
  bool readEnabled() const override { return read_disable_count_ == 0; }
  void setBufferLimits(uint32_t limit) override;
  uint32_t bufferLimit() const override { return buffer_limit_; }
  bool aboveHighWatermark() const override { return above_high_watermark_; }
  const address::InstanceConstSharedPtr& remoteAddress() const override { return remote_address_; }
  const address::InstanceConstSharedPtr& localAddress() const override { return local_address_; }
  uint64_t bytesRead() const override { return bytes_read_; }
  uint64_t bytesWritten() const override { return bytes_written_; }
  absl::string_view transportFailureReason() const override { return failure_reason_; }
  stream_info::StreamInfo& streamInfo() override { return stream_info_; }
  const stream_info::StreamInfo& streamInfo() const override { return stream_info_; }

  // Closes with RemoteClose on the next loop iteration, before delivering anything, with `reason`
  // as the transport failure reason (a server half given a transport it cannot run).
  void scheduleRefusal(std::string reason);

 protected:
  // For InternalClientConnectionImpl: the client half, which creates the pipe.
  InternalConnectionImpl(event::Dispatcher& dispatcher, InternalPipe::Side side,
                         std::shared_ptr<InternalPipe> pipe,
                         address::InstanceConstSharedPtr local_address,
                         address::InstanceConstSharedPtr remote_address,
                         stream_info::StreamInfo stream_info);

  event::Dispatcher& dispatcher() { return dispatcher_; }
  const std::shared_ptr<InternalPipe>& pipe() const { return pipe_; }
  void setFailureReason(std::string reason) { failure_reason_ = std::move(reason); }
  // Closes now and raises `event` to every callback.
  void closeNow(ConnectionEvent event);
  void raiseToCallbacks(ConnectionEvent event);

  // InternalPipe::Endpoint
  void onPeerActivity() override;
  void onPeerConsumed() override;
  uint64_t unconsumedBytes() const override { return read_buffer_.length(); }

 private:
  InternalPipe::Side peerSide() const { return InternalPipe::other(side_); }
  bool peerGone() const { return pipe_->gone(peerSide()); }
  // Something (data, the end of stream) waits to be delivered.
  bool hasInput() const;
  // A reader is there and not paused.
  bool canRead() const { return read_callback_ != nullptr && read_disable_count_ == 0; }
  void scheduleWork();
  void onDeferredWork();
  // Calls onData() when there is something to deliver and the reader can take it.
  void deliver();
  void checkHighWatermark();
  void checkLowWatermark();

  event::Dispatcher& dispatcher_;
  const uint64_t id_;
  const InternalPipe::Side side_;
  std::shared_ptr<InternalPipe> pipe_;
  address::InstanceConstSharedPtr local_address_;
  address::InstanceConstSharedPtr remote_address_;
  // What was taken out of the pipe for onData() and not drained yet.
  buffer::OwnedImpl read_buffer_;
  std::vector<ConnectionCallbacks*> callbacks_;
  ReadCallback* read_callback_ = nullptr;
  // Zero-delay timer: deliveries and closes run from the loop, never on a caller's stack.
  event::TimerPtr deferred_timer_;
  std::string failure_reason_;
  stream_info::StreamInfo stream_info_;
  State state_ = State::Open;
  uint32_t buffer_limit_ = kDefaultInternalBufferLimit;
  uint32_t read_disable_count_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
  bool above_high_watermark_ = false;
  bool read_eof_delivered_ = false;  // onData(..., true) was called
  bool delivering_ = false;          // inside read_callback_->onData(read_buffer_)
  bool write_end_stream_ = false;    // write(..., true) was called
  bool wrote_to_gone_peer_ = false;  // a write found the peer gone: close (EPIPE-like)
  bool refused_ = false;             // scheduleRefusal()
};

// The client half: connect() finds the internal listener on the next loop iteration and hands it
// the server side as a ConnectionSocket; see createInternalClientConnection().
class InternalClientConnectionImpl final : public InternalConnectionImpl, public ClientConnection {
 public:
  InternalClientConnectionImpl(event::Dispatcher& dispatcher,
                               address::InstanceConstSharedPtr remote_address,
                               InternalConnectionOptions options, std::string refusal);

  // ClientConnection
  void connect() override;

 private:
  void onConnect();

  InternalConnectionOptions options_;
  // Why connect() must fail (a transport was given), empty if it may proceed.
  std::string refusal_;
  event::TimerPtr connect_timer_;
  bool connect_called_ = false;
};

}  // namespace waystone::network
