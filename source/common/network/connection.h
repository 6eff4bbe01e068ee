#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/event/deferred_deletable.h"
#include "source/common/network/address.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::tls {
class ConnectionInfo;
}  // namespace waystone::tls

namespace waystone::network {

enum class ConnectionEvent {
  RemoteClose,  // the peer closed or reset, or an I/O error
  LocalClose,   // close() was called
  Connected,    // an outgoing connection completed
};

enum class ConnectionCloseType {
  FlushWrite,  // write what is buffered, then close
  NoFlush,     // close now, dropping buffered data
};

// Observer of a connection's lifecycle and flow control. Every close raises exactly one
// RemoteClose or LocalClose to every registered callback. A callback must not destroy the
// connection directly (the connection is still on the stack): hand it to
// Dispatcher::deferredDelete() instead, which frees it at the end of the loop iteration.
class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  virtual void onEvent(ConnectionEvent event) = 0;
  // The write buffer went above its high watermark: stop producing data for this connection.
  virtual void onAboveWriteBufferHighWatermark() {}
  // It drained below the low watermark again: resume.
  virtual void onBelowWriteBufferLowWatermark() {}
};

// Receives the bytes read from a connection. `end_stream` is true when the peer half-closed
// (after the data). The callee drains what it consumes from `data`.
class ReadCallback {
 public:
  virtual ~ReadCallback() = default;
  virtual void onData(buffer::Instance& data, bool end_stream) = 0;
};

// A non-blocking stream connection on a dispatcher thread. Owned by one object; destroyed with
// deferredDelete() when closed from inside a callback.
class Connection : public event::DeferredDeletable {
 public:
  enum class State { Open, Closing, Closed };

  ~Connection() override = default;

  virtual uint64_t id() const = 0;
  virtual void addConnectionCallbacks(ConnectionCallbacks& cb) = 0;
  virtual void setReadCallback(ReadCallback* cb) = 0;

  // Queues `data` (moved out) for writing; `end_stream` half-closes the write side after it.
  virtual void write(buffer::Instance& data, bool end_stream) = 0;
  virtual void close(ConnectionCloseType type) = 0;
  virtual State state() const = 0;

  // Stops (true) or resumes (false) reading. Calls nest: each disable needs one enable.
  virtual void readDisable(bool disable) = 0;
  virtual bool readEnabled() const = 0;

  // Flow control: the write buffer's high watermark (low = half of it). 0 disables it. Also
  // caps how much is read per event when the read side is not being drained.
  virtual void setBufferLimits(uint32_t limit) = 0;
  virtual uint32_t bufferLimit() const = 0;
  virtual bool aboveHighWatermark() const = 0;

  virtual const address::InstanceConstSharedPtr& remoteAddress() const = 0;
  virtual const address::InstanceConstSharedPtr& localAddress() const = 0;

  // TLS facts (peer SPIFFE identity, ALPN, ...) when the transport is TLS; nullptr otherwise.
  virtual const tls::ConnectionInfo* ssl() const { return nullptr; }

  // Bytes moved so far, for stats and access logs.
  virtual uint64_t bytesRead() const = 0;
  virtual uint64_t bytesWritten() const = 0;

  // Why the transport failed (e.g. "Connection refused" for a failed connect, or a TLS
  // verification error), empty if it did not. Kept after the close for logs and access logs.
  virtual absl::string_view transportFailureReason() const { return {}; }

  // The connection's own stream info: its addresses, its TLS facts, and the connection-level
  // filter state and dynamic metadata that listener and network filters set and that every
  // request on the connection inherits (its filter state is each request's parent).
  virtual stream_info::StreamInfo& streamInfo() = 0;
  virtual const stream_info::StreamInfo& streamInfo() const = 0;
};

using ConnectionPtr = std::unique_ptr<Connection>;

// A process-wide unique connection id, shared by every Connection implementation (kernel and
// internal connections) so that ids in logs and id-keyed maps never collide.
inline uint64_t nextConnectionId() {
  static std::atomic<uint64_t> next_id{0};
  return next_id.fetch_add(1, std::memory_order_relaxed);
}

// An outgoing connection; connect() starts it and onEvent(Connected) or RemoteClose reports.
// (Connection is a virtual base so that one implementation class can serve both interfaces.)
class ClientConnection : public virtual Connection {
 public:
  virtual void connect() = 0;
};

using ClientConnectionPtr = std::unique_ptr<ClientConnection>;

}  // namespace waystone::network
