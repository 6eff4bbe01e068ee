#include "source/common/http/http1/request_encoder_impl.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/connection_impl.h"
#include "source/common/http/http1/header_tokens.h"

namespace waystone::http::http1 {
namespace {

// A request target or authority goes on the request line: visible ASCII only.
bool validTarget(absl::string_view target) {
  return !target.empty() && std::all_of(target.begin(), target.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7f;
  });
}

// Methods whose requests carry a body by definition: a headers-only one gets "content-length: 0"
// so that the server does not wait for one.
bool methodExpectsBody(absl::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

absl::Status RequestEncoderImpl::encodeHeaders(const RequestHeaderMap& headers, bool end_stream) {
  if (headers_encoded_ || local_complete_ || reset_called_) {
    return absl::FailedPreconditionError("request headers already sent");
  }
  const absl::string_view method = headers.method();
  if (!validHeaderName(method)) {
    return absl::InvalidArgumentError("missing or invalid :method");
  }
  const bool is_connect = method == "CONNECT";
  const absl::string_view authority = headers.host();
  if (!authority.empty() && !validTarget(authority)) {
    return absl::InvalidArgumentError("invalid :authority");
  }
  absl::string_view target;
  if (is_connect) {
    if (authority.empty()) {
      return absl::InvalidArgumentError("CONNECT without :authority");
    }
    target = authority;
  } else {
    target = headers.path();
    if (!validTarget(target)) {
      return absl::InvalidArgumentError("missing or invalid :path");
    }
  }

  headers_encoded_ = true;
  head_request_ = method == "HEAD";
  connect_request_ = is_connect;
  upgrade_request_ = isUpgradeRequest(headers);
  const bool has_content_length = headers.has("content-length");
  bool add_zero_length = false;
  if (is_connect) {
    framing_ = BodyFraming::Raw;  // tunnel bytes follow the headers at once
  } else if (has_content_length) {
    framing_ = BodyFraming::ContentLength;
  } else if (upgrade_request_) {
    framing_ = BodyFraming::Raw;  // as Envoy: the upgrade's payload is not chunked
  } else if (end_stream) {
    framing_ = BodyFraming::ContentLength;
    add_zero_length = methodExpectsBody(method);
  } else {
    framing_ = BodyFraming::Chunked;
  }

  buffer::OwnedImpl out(absl::StrCat(method, " ", target, " HTTP/1.1\r\n"));
  if (!authority.empty()) {
    // :authority is the Host (RFC 9112 3.2); a "host" entry in the map would be a second one.
    writeHeaderLine(out, "host", authority);
  }
  if (is_connect) {
    writeHeaderBlock(out, headers, {"host", "transfer-encoding", "content-length"});
  } else if (!authority.empty()) {
    writeHeaderBlock(out, headers, {"host", "transfer-encoding"});
  } else {
    writeHeaderBlock(out, headers, {"transfer-encoding"});
  }
  if (is_connect) {
    // Nothing about a body on a CONNECT (RFC 9110 9.3.6).
  } else if (framing_ == BodyFraming::Chunked) {
    out.add("transfer-encoding: chunked\r\n");
  } else if (add_zero_length) {
    out.add("content-length: 0\r\n");
  }
  out.add("\r\n");
  connection_.write(out);
  if (end_stream) {
    endEncode();
  }
  return absl::OkStatus();
}

void RequestEncoderImpl::encodeTrailers(const RequestTrailerMap& trailers) {
  encodeTrailersBase(trailers);
}

}  // namespace waystone::http::http1
