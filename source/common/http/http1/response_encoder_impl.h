#pragma once

#include "source/common/http/codec.h"
#include "source/common/http/http1/stream_encoder_impl.h"

namespace waystone::http::http1 {

class ServerConnectionImpl;

// The server side of one HTTP/1 exchange: writes the status line, the response headers (names
// as they are in the map, i.e. lower case) and the body with the framing the request allows.
class ResponseEncoderImpl : public StreamEncoderImpl, public ResponseEncoder {
 public:
  // What the request said that shapes the response; set when the request headers are complete.
  struct RequestInfo {
    bool head = false;     // no body in the response
    bool connect = false;  // a 2xx answer turns the connection into a tunnel
    bool upgrade = false;  // a 101 answer turns the connection into a tunnel
    bool http10 = false;   // no chunked encoding; keep-alive only when asked for
  };

  explicit ResponseEncoderImpl(ServerConnectionImpl& connection);

  // ResponseEncoder
  // Writes "HTTP/1.1 100 Continue" (or another 1xx except 101) and the headers. Nothing is sent
  // to an HTTP/1.0 client (RFC 9110 15.2) or after the final headers.
  void encode1xxHeaders(const ResponseHeaderMap& headers) override;
  void encodeHeaders(const ResponseHeaderMap& headers, bool end_stream) override;
  void encodeTrailers(const ResponseTrailerMap& trailers) override;

  void setRequestInfo(const RequestInfo& info) { request_ = info; }
  const RequestInfo& requestInfo() const { return request_; }
  bool responseStarted() const { return headers_encoded_; }

 private:
  ServerConnectionImpl& server_;
  RequestInfo request_;
};

}  // namespace waystone::http::http1
