#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/network/connection.h"

namespace waystone::network {

// The byte-moving layer under a ConnectionImpl: RawTransport does plain read/write syscalls; a TLS
// transport (source/common/tls/) encrypts and decrypts on the same descriptor. The connection owns
// the socket, the buffers, the events and the state machine; the transport only moves bytes.

enum class PostIoAction {
  KeepOpen,
  Close,  // the transport failed (reset, protocol error): the connection closes with RemoteClose
};

struct IoResult {
  PostIoAction action = PostIoAction::KeepOpen;
  uint64_t bytes_processed = 0;  // bytes read into, or written from, the connection's buffer
  // doRead: the peer ended its stream (EOF, or a TLS close_notify).
  // doWrite: the write side was shut down after the buffer drained (end_stream was honoured).
  bool end_stream = false;
};

// What the connection offers its transport.
class TransportSocketCallbacks {
 public:
  virtual ~TransportSocketCallbacks() = default;
  virtual int fd() const = 0;
  virtual Connection& connection() = 0;
  // True when the read buffer is over its limit: stop reading in this event.
  virtual bool shouldDrainReadBuffer() = 0;
  // Lets a transport that finishes its own handshake report Connected.
  virtual void raiseEvent(ConnectionEvent event) = 0;
};

class TransportSocket {
 public:
  virtual ~TransportSocket() = default;

  virtual void setTransportSocketCallbacks(TransportSocketCallbacks& callbacks) = 0;
  // The negotiated application protocol (ALPN), empty if none.
  virtual absl::string_view protocol() const = 0;
  // A client connection's connect() completed. A raw transport raises Connected at once; TLS
  // starts its handshake and raises Connected when it is done. Not called for accepted (server)
  // connections: a server transport starts its work on the first doRead/doWrite.
  virtual void onConnected() = 0;
  // Reads at most `max_bytes` (more calls are allowed while data keeps coming) into `buffer`.
  virtual IoResult doRead(buffer::OwnedImpl& buffer, uint64_t max_bytes) = 0;
  // Writes as much of `buffer` as the socket takes, draining what was written. With
  // `end_stream`, shuts the write side down once `buffer` is empty.
  virtual IoResult doWrite(buffer::OwnedImpl& buffer, bool end_stream) = 0;
  // The connection is about to close the descriptor.
  virtual void closeSocket(ConnectionEvent event) = 0;
  // Why the last doRead/doWrite returned Close (errno text, TLS error), empty otherwise.
  virtual absl::string_view failureReason() const = 0;

  // Write-event hints for a level-triggered loop. canFlushWrite(): buffered data can be written
  // now (false while a TLS handshake is under way, so the loop does not spin on a writable
  // socket). wantsWriteEvent(): the transport itself needs the socket writable (a handshake
  // flight blocked on a full socket), whatever the buffer holds.
  virtual bool canFlushWrite() const { return true; }
  virtual bool wantsWriteEvent() const { return false; }
};

using TransportSocketPtr = std::unique_ptr<TransportSocket>;
// Makes the transport for each new connection (raw, or TLS from the current context).
using TransportSocketFactoryCb = std::function<TransportSocketPtr()>;

}  // namespace waystone::network
