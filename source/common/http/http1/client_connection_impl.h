#pragma once

#include <memory>
#include <vector>

#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http1/connection_impl.h"
#include "source/common/http/http1/request_encoder_impl.h"

namespace waystone::http::http1 {

// The upstream HTTP/1.1 codec: requests out, responses in, one request at a time (no pipelining;
// newStream() only after the previous response completed or was reset).
//
// Responses: 100 is delivered through decode1xxHeaders(), other 1xx are skipped; 101 after an
// upgrade request and 2xx after CONNECT switch to raw bytes both ways; HEAD, 204 and 304 carry no
// body whatever the headers say; a response without content-length or chunked encoding ends when
// the server closes: call dispatch() with an empty buffer at end of stream to complete it.
//
// Errors: prematureResponseError("http1.premature_response") for bytes while no request has been
// sent; codecProtocolError(details) for malformed responses. A response that arrives while the
// request is still being sent is delivered normally (as in Envoy; the router decides what to do)
// and makes the connection close afterwards (shouldClose()).
class ClientConnectionImpl : public ClientConnection, public ConnectionImpl {
 public:
  ClientConnectionImpl(CodecTransport& transport, ConnectionCallbacks& callbacks,
                       const Http1Settings& settings, const HeaderLimits& limits);
  ~ClientConnectionImpl() override;

  // ClientConnection
  RequestEncoder& newStream(ResponseDecoder& decoder) override;
  bool shouldCloseConnection() const override { return shouldClose(); }
  // Connection
  bool wantsToWrite() const override { return active_ != nullptr; }

  // ConnectionImpl
  void onEncodeComplete(StreamEncoderImpl& stream) override;
  void onStreamReset(StreamEncoderImpl& stream, StreamResetReason reason) override;

 private:
  struct PendingRequest {
    explicit PendingRequest(ConnectionImpl& connection) : encoder(connection) {}
    RequestEncoderImpl encoder;
    ResponseDecoder* decoder = nullptr;
  };

  // ConnectionImpl
  absl::Status onMessageBeginImpl() override;
  absl::StatusOr<int> onHeadersCompleteImpl() override;
  void onBodyImpl(buffer::Instance& data, bool end_stream) override;
  absl::Status onMessageCompleteImpl(HeaderMapPtr trailers) override;
  void onRawData(buffer::Instance& data, bool end_stream) override;
  absl::Status onEndOfStream() override;
  bool canDeliver() const override;
  bool dropInput() const override;
  absl::Status checkBeforeParse() override;
  void onDispatchStart() override { finished_.clear(); }
  StreamEncoderImpl* activeStream() override;

  // The response is over: release the request (freed at the next dispatch()) before the decoder
  // hears of it, so that it may start the next request from inside the call. Returns its decoder.
  ResponseDecoder* completeResponse();

  ConnectionCallbacks& callbacks_;
  std::unique_ptr<PendingRequest> active_;
  std::vector<std::unique_ptr<PendingRequest>> finished_;
  // The current message is a 1xx: its completion is not the response's.
  bool ignore_message_complete_ = false;
  // A response without a body: its headers are delivered with end_stream at message complete.
  bool deferred_end_stream_headers_ = false;
  // The current response's end was delivered (with its last body bytes).
  bool response_done_ = false;
};

}  // namespace waystone::http::http1
