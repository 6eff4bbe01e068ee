#include "source/common/http/http1/response_encoder_impl.h"

#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/header_tokens.h"
#include "source/common/http/http1/server_connection_impl.h"
#include "source/common/http/reason_phrase.h"

namespace waystone::http::http1 {
ResponseEncoderImpl::ResponseEncoderImpl(ServerConnectionImpl& connection)
    : StreamEncoderImpl(connection), server_(connection) {}

void ResponseEncoderImpl::encode1xxHeaders(const ResponseHeaderMap& headers) {
  if (headers_encoded_ || local_complete_ || reset_called_ || request_.http10) {
    return;
  }
  const uint64_t status = headers.status();
  if (status < 100 || status >= 200 || status == 101) {
    return;  // 101 ends the HTTP/1 exchange: it goes through encodeHeaders()
  }
  buffer::OwnedImpl out(absl::StrCat("HTTP/1.1 ", status, " ", reasonPhrase(status), "\r\n"));
  writeHeaderBlock(out, headers, {"connection", "transfer-encoding", "content-length"});
  out.add("\r\n");
  connection_.write(out);
}

void ResponseEncoderImpl::encodeHeaders(const ResponseHeaderMap& headers, bool end_stream) {
  if (headers_encoded_ || local_complete_ || reset_called_) {
    return;
  }
  headers_encoded_ = true;
  uint64_t status = headers.status();
  if (status < 100) {
    status = 500;  // the HCM always sets :status; never write a broken status line
  }

  const bool tunnel =
      (request_.connect && status >= 200 && status < 300) || (request_.upgrade && status == 101);
  const bool has_content_length = headers.has("content-length");
  bool drop_content_length = false;
  if (tunnel) {
    // RFC 9110 9.3.6: no Content-Length or Transfer-Encoding in a 2xx answer to CONNECT.
    framing_ = BodyFraming::Raw;
    drop_content_length = request_.connect;
  } else if (status < 200 || status == 204) {
    framing_ = BodyFraming::None;
    drop_content_length = true;  // RFC 9110 8.6: never in 1xx or 204
  } else if (request_.head || status == 304) {
    framing_ = BodyFraming::None;  // content-length stays: it describes the resource
  } else if (has_content_length || end_stream) {
    framing_ = BodyFraming::ContentLength;
  } else if (request_.http10) {
    framing_ = BodyFraming::CloseDelimited;
  } else {
    framing_ = BodyFraming::Chunked;
  }

  // Whether the connection ends with this response.
  bool close = server_.shouldClose() || headerHasToken(headers, "connection", "close") ||
               framing_ == BodyFraming::CloseDelimited;
  // A refused upgrade or CONNECT: the client may already be sending tunnel bytes, which can never
  // be told apart from a next request.
  if ((request_.connect || request_.upgrade) && !tunnel) {
    close = true;
  }

  buffer::OwnedImpl out(absl::StrCat(request_.http10 ? "HTTP/1.0 " : "HTTP/1.1 ", status, " ",
                                     reasonPhrase(status), "\r\n"));
  if (tunnel && !request_.connect) {
    // 101: "connection: upgrade" and "upgrade" are the point of the message.
    writeHeaderBlock(out, headers, {"transfer-encoding", "content-length"});
  } else if (drop_content_length) {
    writeHeaderBlock(out, headers, {"connection", "transfer-encoding", "content-length"});
  } else {
    writeHeaderBlock(out, headers, {"connection", "transfer-encoding"});
  }
  if (framing_ == BodyFraming::Chunked) {
    out.add("transfer-encoding: chunked\r\n");
  } else if (framing_ == BodyFraming::ContentLength && !has_content_length) {
    out.add("content-length: 0\r\n");
  }
  if (!tunnel) {
    if (close) {
      out.add("connection: close\r\n");
    } else if (request_.http10) {
      out.add("connection: keep-alive\r\n");
    }
  }
  out.add("\r\n");
  if (close || tunnel) {
    // A tunnel ends with the connection as well.
    server_.closeAfterResponse();
  }
  connection_.write(out);
  if (end_stream) {
    endEncode();
  }
}

void ResponseEncoderImpl::encodeTrailers(const ResponseTrailerMap& trailers) {
  encodeTrailersBase(trailers);
}

}  // namespace waystone::http::http1
