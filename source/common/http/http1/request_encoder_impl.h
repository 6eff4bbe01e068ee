#pragma once

#include "absl/status/status.h"

#include "source/common/http/codec.h"
#include "source/common/http/http1/stream_encoder_impl.h"

namespace waystone::http::http1 {

// The client side of one HTTP/1 exchange: writes the request line from the pseudo-headers
// (:method, :path; for CONNECT :authority as the target), Host from :authority, the other headers
// in order, and the body chunked unless a content-length was given.
class RequestEncoderImpl : public StreamEncoderImpl, public RequestEncoder {
 public:
  explicit RequestEncoderImpl(ConnectionImpl& connection) : StreamEncoderImpl(connection) {}

  // RequestEncoder
  // InvalidArgument without :method, without :path (non-CONNECT), without :authority (CONNECT),
  // or with bytes that cannot go on a request line; nothing is written then.
  absl::Status encodeHeaders(const RequestHeaderMap& headers, bool end_stream) override;
  void encodeTrailers(const RequestTrailerMap& trailers) override;

  bool headRequest() const { return head_request_; }
  bool connectRequest() const { return connect_request_; }
  bool upgradeRequest() const { return upgrade_request_; }

 private:
  bool head_request_ = false;
  bool connect_request_ = false;
  bool upgrade_request_ = false;
};

}  // namespace waystone::http::http1
