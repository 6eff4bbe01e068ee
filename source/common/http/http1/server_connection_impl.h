#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http1/connection_impl.h"
#include "source/common/http/http1/response_encoder_impl.h"

namespace waystone::http::http1 {

// The downstream HTTP/1.1 codec: requests in, responses out, one exchange at a time.
//
// Requests are delivered as RequestHeaderMaps shaped like HTTP/2's: :method, :path, :authority
// (from Host, or from an absolute-form target, which wins over Host as RFC 9112 3.2.2 requires of
// a proxy), :scheme only for absolute-form targets, and for CONNECT only :method and :authority.
// A request without a body is delivered as decodeHeaders(end_stream = true).
//
// Pipelining: after a request is complete nothing more is parsed until its response is complete;
// the bytes of the next request stay in the caller's buffer and the transport is read-disabled
// meanwhile (re-enabled when the response is done, which makes the transport deliver them again).
//
// Errors: dispatch() returns codecProtocolError(details) and lastErrorHttpStatus() says how to
// answer it: 400; 431 for header size or count limits; 426 for HTTP/1.0 (and HTTP/0.9) when
// accept_http_10 is off; 501 for a transfer-encoding other than chunked. The codec itself writes
// nothing: the connection manager sends the answer (if no response has started) and closes.
class ServerConnectionImpl : public ServerConnection, public ConnectionImpl {
 public:
  ServerConnectionImpl(CodecTransport& transport, ServerConnectionCallbacks& callbacks,
                       const Http1Settings& settings, const HeaderLimits& limits);
  ~ServerConnectionImpl() override;

  // Connection
  bool wantsToWrite() const override { return active_request_ != nullptr; }

  // The status to answer the last dispatch() error with, or 0 when there was none.
  uint32_t lastErrorHttpStatus() const { return error_http_status_; }

  // ConnectionImpl
  void onEncodeComplete(StreamEncoderImpl& stream) override;
  void onStreamReset(StreamEncoderImpl& stream, StreamResetReason reason) override;

  // From the response encoder: this response is the connection's last.
  void closeAfterResponse() { close_connection_ = true; }

 private:
  struct ActiveRequest {
    explicit ActiveRequest(ServerConnectionImpl& connection) : encoder(connection) {}
    ResponseEncoderImpl encoder;
    RequestDecoder* decoder = nullptr;
    // The decoder has seen (or is being given) end_stream.
    bool remote_complete = false;
  };

  // ConnectionImpl
  absl::Status onMessageBeginImpl() override;
  absl::Status onUrlImpl(absl::string_view data) override;
  absl::StatusOr<int> onHeadersCompleteImpl() override;
  void onBodyImpl(buffer::Instance& data, bool end_stream) override;
  absl::Status onMessageCompleteImpl(HeaderMapPtr trailers) override;
  void onRawData(buffer::Instance& data, bool end_stream) override;
  absl::Status onEndOfStream() override { return absl::OkStatus(); }
  bool canDeliver() const override;
  bool dropInput() const override;
  void onDispatchStart() override { finished_requests_.clear(); }
  StreamEncoderImpl* activeStream() override;
  absl::StatusOr<bool> acceptHeaderName(absl::string_view name) override;

  // Fills :path, :authority and :scheme from the request target and the Host header.
  absl::Status handleRequestTarget(HeaderMap& headers, bool is_connect);
  // The decoder of the current request while it may still receive events: not after its
  // response completed (the connection closes) or it was reset.
  RequestDecoder* liveDecoder();
  // The exchange is over on both sides: release it (freed at the next dispatch()).
  void finishRequest();
  // Ends the output (end_stream on the transport): the connection closes after what was written.
  void endOutput();

  ServerConnectionCallbacks& callbacks_;
  std::unique_ptr<ActiveRequest> active_request_;
  // Finished exchanges stay alive until the next dispatch(): the connection manager may still be
  // inside one of their calls.
  std::vector<std::unique_ptr<ActiveRequest>> finished_requests_;
  std::string url_;
  bool waiting_for_response_ = false;
  bool output_ended_ = false;
  // A request without a body: its headers are delivered with end_stream at message complete.
  bool deferred_end_stream_headers_ = false;
};

}  // namespace waystone::http::http1
