#pragma once

#include <http_parser.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/header_map.h"
#include "source/common/http/http1/framing_validator.h"

namespace waystone::http::http1 {

class StreamEncoderImpl;

// What the server and client HTTP/1 codecs share: libhttp-parser and its callbacks (each a static
// trampoline into a method), the FramingValidator that sees every framing byte before the parser,
// the dispatch loop, header assembly and the checks on body framing headers.
//
// Dispatch model. dispatch() parses from the front of `data` and drains exactly what the parser
// consumed. It stops early, leaving the rest in `data`, when:
//   - a message is complete (always: one message at a time; the server waits for the response,
//     the client has no request outstanding any more),
//   - the active stream is read-disabled (Stream::readDisable), so no decoder is called while
//     paused.
// The codec read-disables the CodecTransport while it waits, and re-enables it when it can go on;
// the transport is then expected to deliver its buffered bytes again (network::ConnectionImpl
// does). dispatch() with an empty buffer means the peer closed its side (end of stream): it
// completes close-delimited response bodies and ends raw (upgraded / CONNECT) streams.
//
// Errors are sticky: once dispatch() fails, it returns the same status until destroyed.
class ConnectionImpl : public virtual Connection {
 public:
  ~ConnectionImpl() override;

  ConnectionImpl(const ConnectionImpl&) = delete;
  ConnectionImpl& operator=(const ConnectionImpl&) = delete;

  // Connection
  absl::Status dispatch(buffer::Instance& data) override;
  void goAway() override;
  // HTTP/1 has no graceful drain signal short of "connection: close" (goAway()).
  void shutdownNotice() override {}
  Protocol protocol() const override { return protocol_; }
  void onUnderlyingConnectionAboveWriteBufferHighWatermark() override;
  void onUnderlyingConnectionBelowWriteBufferLowWatermark() override;

  // True once the connection cannot carry another message: "connection: close" sent or received,
  // HTTP/1.0 without keep-alive, a close-delimited body, an upgrade or CONNECT tunnel, a response
  // that completed before its request, a reset stream, goAway(), or an error. The owner closes
  // the connection after flushing what was written. On the server the last write of such a
  // response also carries end_stream = true.
  bool shouldClose() const { return close_connection_; }
  // The error details (Envoy's response code details) of the last dispatch() error, or "".
  absl::string_view lastErrorDetails() const { return codec_status_.message(); }

  // For the stream encoders.
  const Http1Settings& settings() const { return settings_; }
  uint32_t transportBufferLimit() const { return transport_.bufferLimit(); }
  bool aboveHighWatermark() const { return above_high_watermark_; }
  void write(buffer::Instance& data) { transport_.write(data, false); }
  void onStreamReadDisable(bool disable) { transport_.readDisable(disable); }
  virtual void onEncodeComplete(StreamEncoderImpl& stream) = 0;
  virtual void onStreamReset(StreamEncoderImpl& stream, StreamResetReason reason) = 0;

 protected:
  ConnectionImpl(CodecTransport& transport, http_parser_type type, const Http1Settings& settings,
                 const HeaderLimits& limits);

  // Where the next bytes go.
  enum class Mode {
    Head,          // validated: start line and headers
    Body,          // the parser alone: content-length or close-delimited body
    ChunkLine,     // validated: chunk-size line
    ChunkData,     // the parser alone, at most the chunk's size
    ChunkDataEnd,  // validated: CRLF after chunk data
    Trailers,      // validated: trailer section
    Raw,           // after an upgrade / CONNECT: bytes go to the stream as they are
  };

  // Subclass hooks, called from the parser callbacks.
  virtual absl::Status onMessageBeginImpl() = 0;
  virtual absl::Status onUrlImpl(absl::string_view) { return absl::OkStatus(); }
  // Runs after the common checks. Returns what http-parser expects from on_headers_complete:
  // 0 body as framed, 1 no body, 2 no body and the rest of the bytes are another protocol.
  virtual absl::StatusOr<int> onHeadersCompleteImpl() = 0;
  virtual void onBodyImpl(buffer::Instance& data, bool end_stream) = 0;
  // `trailers` is null when there were none (or they are not delivered).
  virtual absl::Status onMessageCompleteImpl(HeaderMapPtr trailers) = 0;
  // Raw mode: bytes for the stream, or end of stream (`data` empty, end_stream true).
  virtual void onRawData(buffer::Instance& data, bool end_stream) = 0;
  // The peer closed while not in raw mode.
  virtual absl::Status onEndOfStream() = 0;
  // False stops the dispatch loop before the next byte (waiting, read-disabled).
  virtual bool canDeliver() const = 0;
  // True drops every further byte (the connection is closing).
  virtual bool dropInput() const = 0;
  // Checked before each parse step; an error stops dispatch.
  virtual absl::Status checkBeforeParse() { return absl::OkStatus(); }
  // Called at the start of dispatch(): a safe point to free finished streams.
  virtual void onDispatchStart() {}
  // Returns the stream the watermark callbacks go to, or null.
  virtual StreamEncoderImpl* activeStream() = 0;
  // Header names: server applies headers_with_underscores_action; returns false to drop.
  virtual absl::StatusOr<bool> acceptHeaderName(absl::string_view name) {
    (void)name;
    return true;
  }

  // Records an error (the first one wins) with the HTTP status to answer it with.
  void setCodecError(absl::Status status, uint32_t http_status);
  // setCodecError(), then returns the recorded error.
  absl::Status fail(absl::Status status, uint32_t http_status) {
    setCodecError(std::move(status), http_status);
    return codec_status_;
  }
  // Tells the parser the peer closed: completes a close-delimited body, fails inside any other
  // message, does nothing between messages.
  absl::Status parseEndOfStream();
  // Checks Transfer-Encoding and Content-Length (shared by requests and responses).
  absl::Status checkBodyFraming(HeaderMap& headers, bool is_connect);
  void setMode(Mode mode);
  // Parsing of the current message's start line and headers.
  HeaderMap& headers() { return *headers_; }
  HeaderMapPtr takeHeaders() { return std::move(headers_); }
  bool headersComplete() const { return headers_complete_; }

  CodecTransport& transport_;
  const Http1Settings settings_;
  const HeaderLimits limits_;
  http_parser parser_;
  Protocol protocol_ = Protocol::Http11;
  Mode mode_ = Mode::Head;
  bool close_connection_ = false;
  bool above_high_watermark_ = false;
  // Set by an upgrade / CONNECT decision in onHeadersCompleteImpl(): raw bytes after this message.
  bool handling_upgrade_ = false;
  uint32_t error_http_status_ = 0;
  absl::Status codec_status_;

 private:
  // http-parser trampolines.
  static int onMessageBeginCb(http_parser* parser);
  static int onUrlCb(http_parser* parser, const char* at, size_t length);
  static int onStatusCb(http_parser* parser, const char* at, size_t length);
  static int onHeaderFieldCb(http_parser* parser, const char* at, size_t length);
  static int onHeaderValueCb(http_parser* parser, const char* at, size_t length);
  static int onHeadersCompleteCb(http_parser* parser);
  static int onBodyCb(http_parser* parser, const char* at, size_t length);
  static int onMessageCompleteCb(http_parser* parser);
  static int onChunkHeaderCb(http_parser* parser);
  static int onChunkCompleteCb(http_parser* parser);

  int onMessageBegin();
  int onUrl(absl::string_view data);
  int onHeaderField(absl::string_view data);
  int onHeaderValue(absl::string_view data);
  int onHeadersComplete();
  int onBody(absl::string_view data);
  int onMessageComplete();
  int onChunkHeader();
  int onChunkComplete();
  // Converts a callback's status into the parser's return value.
  int callbackResult(absl::Status status);
  // Adds the header under construction to the map (or drops it).
  absl::Status completeHeader();
  // One parser step over the front of `data`.
  void parseStep(buffer::Instance& data);
  void failValidation(FramingValidator::Error error);
  void failParser(http_errno error);
  FramingValidator::Section headSection() const;

  enum class HeaderState { None, Field, Value };

  http_parser_settings parser_settings_;
  FramingValidator validator_;
  // Bytes at the front of the input the validator accepted and the parser has not consumed yet.
  uint64_t approved_ = 0;
  uint64_t chunk_remaining_ = 0;
  HeaderMapPtr headers_;
  std::string current_field_;
  std::string current_value_;
  HeaderState header_state_ = HeaderState::None;
  bool processing_trailers_ = false;
  bool headers_complete_ = false;
  bool dispatching_ = false;
};

}  // namespace waystone::http::http1
