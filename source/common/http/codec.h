#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/http/header_map.h"

namespace waystone::http {

// Codecs turn bytes into per-stream events and back, in Envoy's shape. They know nothing of
// sockets, filters or routing: bytes come in through Connection::dispatch() and leave through a
// CodecTransport. One codec instance serves one connection on one worker.

enum class Protocol { Http10, Http11, Http2 };

absl::string_view protocolString(Protocol protocol);  // "HTTP/1.0", "HTTP/1.1", "HTTP/2"

enum class StreamResetReason {
  LocalReset,  // we reset it (filter, timeout, limit)
  LocalRefusedStreamReset,
  RemoteReset,  // the peer reset it (RST_STREAM)
  RemoteRefusedStreamReset,
  ConnectionFailure,      // the connection could not be made
  ConnectionTermination,  // the connection closed under the stream
  Overflow,               // a limit (streams, pending, buffers) was hit
  ProtocolError,          // the peer broke the protocol on this stream
  ConnectError,           // CONNECT target failed (HTTP/2 CONNECT_ERROR)
};

absl::string_view resetReasonString(StreamResetReason reason);

// What a codec needs from the connection beneath it. The HTTP connection manager and the
// upstream codec client adapt a network::Connection to it; tests and fuzzers use a buffer.
class CodecTransport {
 public:
  virtual ~CodecTransport() = default;
  // Queues `data` (moved out) for the peer.
  virtual void write(buffer::Instance& data, bool end_stream) = 0;
  // Stops (true) / resumes (false) reading from the peer; calls nest.
  virtual void readDisable(bool disable) = 0;
  virtual uint32_t bufferLimit() const = 0;
};

// Errors from Connection::dispatch(). The code tells the caller what to do:
//   InvalidArgument    the peer broke the protocol (HTTP/1: answer 400 and close; HTTP/2: GOAWAY)
//   ResourceExhausted  a flood or limit (close the connection)
//   FailedPrecondition a response arrived before the request was sent (client codec)
// The message is Envoy-style details, e.g. "http1.invalid_characters".
absl::Status codecProtocolError(absl::string_view details);
absl::Status bufferFloodError(absl::string_view details);
absl::Status prematureResponseError(absl::string_view details);
bool isCodecProtocolError(const absl::Status& status);
bool isBufferFloodError(const absl::Status& status);
bool isPrematureResponseError(const absl::Status& status);

class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  virtual void onResetStream(StreamResetReason reason, absl::string_view details) = 0;
  // The stream's outgoing data is backing up: stop producing for it.
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

// One request/response exchange inside a connection.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual void addCallbacks(StreamCallbacks& callbacks) = 0;
  virtual void removeCallbacks(StreamCallbacks& callbacks) = 0;
  virtual void resetStream(StreamResetReason reason) = 0;
  // Flow control: stop (true) / resume (false) delivering this stream's data; calls nest. For
  // HTTP/2 this withholds WINDOW_UPDATEs; for HTTP/1 it pauses reading the connection.
  virtual void readDisable(bool disable) = 0;
  virtual uint32_t bufferLimit() const = 0;
  virtual uint32_t streamId() const = 0;  // HTTP/2 stream id; 0 for HTTP/1
};

class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void encodeData(buffer::Instance& data, bool end_stream) = 0;
  virtual Stream& getStream() = 0;
};

class RequestEncoder : public virtual StreamEncoder {
 public:
  // Errors for headers that cannot be sent (missing :method/:path, bad CONNECT).
  virtual absl::Status encodeHeaders(const RequestHeaderMap& headers, bool end_stream) = 0;
  virtual void encodeTrailers(const RequestTrailerMap& trailers) = 0;
};

class ResponseEncoder : public virtual StreamEncoder {
 public:
  virtual void encode1xxHeaders(const ResponseHeaderMap& headers) = 0;
  virtual void encodeHeaders(const ResponseHeaderMap& headers, bool end_stream) = 0;
  virtual void encodeTrailers(const ResponseTrailerMap& trailers) = 0;
};

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  virtual void decodeData(buffer::Instance& data, bool end_stream) = 0;
};

class RequestDecoder : public virtual StreamDecoder {
 public:
  virtual void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) = 0;
  virtual void decodeTrailers(RequestTrailerMapPtr&& trailers) = 0;
};

class ResponseDecoder : public virtual StreamDecoder {
 public:
  virtual void decode1xxHeaders(ResponseHeaderMapPtr&& headers) = 0;
  virtual void decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) = 0;
  virtual void decodeTrailers(ResponseTrailerMapPtr&& trailers) = 0;
};

class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  // The peer announced it will stop (HTTP/2 GOAWAY).
  virtual void onGoAway() {}
  // The peer's SETTINGS arrived (HTTP/2; the first completes its connection preface): limits
  // such as ClientConnection::maxConcurrentStreams() may have changed.
  virtual void onSettings() {}
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Feeds bytes from the peer; drains what was consumed. Errors per codecProtocolError() etc.
  virtual absl::Status dispatch(buffer::Instance& data) = 0;
  // Tell the peer we are going away (HTTP/2 GOAWAY; HTTP/1: "connection: close" on the next
  // response).
  virtual void goAway() = 0;
  // The first stage of a graceful drain (HTTP/2: GOAWAY with the last stream id 2^31-1).
  virtual void shutdownNotice() = 0;
  virtual Protocol protocol() const = 0;
  // True while streams are open or data is pending.
  virtual bool wantsToWrite() const = 0;
  // The transport's write buffer crossed its watermarks: pause / resume all streams.
  virtual void onUnderlyingConnectionAboveWriteBufferHighWatermark() = 0;
  virtual void onUnderlyingConnectionBelowWriteBufferLowWatermark() = 0;
};

class ServerConnectionCallbacks : public ConnectionCallbacks {
 public:
  // A new request stream: return its decoder. `encoder` stays valid until the stream ends.
  virtual RequestDecoder& newStream(ResponseEncoder& encoder) = 0;
};

class ServerConnection : public virtual Connection {};
using ServerConnectionPtr = std::unique_ptr<ServerConnection>;

class ClientConnection : public virtual Connection {
 public:
  // Starts a request; `decoder` receives the response.
  virtual RequestEncoder& newStream(ResponseDecoder& decoder) = 0;
  // The connection cannot carry another request (HTTP/1: the peer said "connection: close", or a
  // request was reset mid-way, leaving the framing unknown).
  virtual bool shouldCloseConnection() const { return false; }
  // How many streams the peer lets us have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS:
  // unlimited until its SETTINGS say otherwise). HTTP/1 carries one request at a time anyway.
  virtual uint64_t maxConcurrentStreams() const { return UINT64_MAX; }
};
using ClientConnectionPtr = std::unique_ptr<ClientConnection>;

}  // namespace waystone::http
