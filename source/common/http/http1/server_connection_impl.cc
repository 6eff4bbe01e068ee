#include "source/common/http/http1/server_connection_impl.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/codec_details.h"
#include "source/common/http/http1/header_tokens.h"

namespace waystone::http::http1 {
namespace {

constexpr uint64_t kNoContentLength = ~uint64_t{0};

// RFC 3986 authority bytes (what nghttp2_check_authority, and so Envoy, accepts).
bool validAuthority(absl::string_view authority) {
  if (authority.empty()) {
    return false;
  }
  for (const char ch : authority) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c)) {
      continue;
    }
    if (absl::string_view("-._~!$&'()*+,;=:@[]%").find(ch) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool fieldSet(const http_parser_url& url, http_parser_url_fields field) {
  return (url.field_set & (1u << field)) != 0;
}

absl::string_view field(absl::string_view url_text, const http_parser_url& url,
                        http_parser_url_fields field) {
  return url_text.substr(url.field_data[field].off, url.field_data[field].len);
}

}  // namespace

ServerConnectionImpl::ServerConnectionImpl(CodecTransport& transport,
                                           ServerConnectionCallbacks& callbacks,
                                           const Http1Settings& settings,
                                           const HeaderLimits& limits)
    : ConnectionImpl(transport, HTTP_REQUEST, settings, limits), callbacks_(callbacks) {}

ServerConnectionImpl::~ServerConnectionImpl() = default;

StreamEncoderImpl* ServerConnectionImpl::activeStream() {
  return active_request_ == nullptr ? nullptr : &active_request_->encoder;
}

bool ServerConnectionImpl::canDeliver() const {
  if (waiting_for_response_) {
    return false;
  }
  return active_request_ == nullptr || !active_request_->encoder.readDisabled();
}

bool ServerConnectionImpl::dropInput() const {
  // Once the output has ended (last response done, or a reset), nothing that follows is read: it
  // can only be a request that will not be answered. A goAway() alone still serves the next
  // request, with "connection: close".
  return output_ended_;
}

void ServerConnectionImpl::endOutput() {
  output_ended_ = true;
  buffer::OwnedImpl empty;
  transport_.write(empty, true);
}

RequestDecoder* ServerConnectionImpl::liveDecoder() {
  if (active_request_ == nullptr || active_request_->encoder.localComplete()) {
    return nullptr;
  }
  return active_request_->decoder;
}

absl::StatusOr<bool> ServerConnectionImpl::acceptHeaderName(absl::string_view name) {
  if (limits_.headers_with_underscores_action == HeadersWithUnderscoresAction::Allow ||
      !absl::StrContains(name, '_')) {
    return true;
  }
  if (limits_.headers_with_underscores_action == HeadersWithUnderscoresAction::DropHeader) {
    return false;
  }
  return fail(codecProtocolError(kDetailsInvalidUnderscore), 400);
}

absl::Status ServerConnectionImpl::onMessageBeginImpl() {
  if (active_request_ != nullptr) {
    // Cannot happen: parsing stops at each message end until the exchange is over.
    return fail(codecProtocolError(kDetailsCodecError), 400);
  }
  url_.clear();
  deferred_end_stream_headers_ = false;
  protocol_ = Protocol::Http11;
  active_request_ = std::make_unique<ActiveRequest>(*this);
  active_request_->decoder = &callbacks_.newStream(active_request_->encoder);
  return absl::OkStatus();
}

absl::Status ServerConnectionImpl::onUrlImpl(absl::string_view data) {
  // Bounded: the validator counts the request line against the header size limit.
  url_.append(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status ServerConnectionImpl::handleRequestTarget(HeaderMap& headers, bool is_connect) {
  // Host becomes :authority, as in HTTP/2.
  const std::vector<absl::string_view> hosts = headers.getAll("host");
  if (hosts.size() > 1) {
    // RFC 9112 3.2: more than one Host is a 400.
    return fail(codecProtocolError(kDetailsInvalidAuthority), 400);
  }
  const std::string host = hosts.empty() ? std::string() : std::string(hosts[0]);
  headers.remove("host");
  if (!host.empty() && !validAuthority(host)) {
    return fail(codecProtocolError(kDetailsInvalidAuthority), 400);
  }

  if (is_connect) {
    // authority-form: host:port and nothing else.
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(url_.data(), url_.size(), 1, &url) != 0 || url.port == 0 ||
        !validAuthority(url_)) {
      return fail(codecProtocolError(kDetailsInvalidUrl), 400);
    }
    headers.addCopy(":authority", url_);
    return absl::OkStatus();
  }

  const bool origin_form = !url_.empty() && url_[0] == '/';
  const bool asterisk_form = url_ == "*" && parser_.method == HTTP_OPTIONS;
  if (origin_form || asterisk_form) {
    if (!host.empty()) {
      headers.addCopy(":authority", host);
    }
    headers.addCopy(":path", url_);
    return absl::OkStatus();
  }

  // absolute-form.
  if (!settings_.allow_absolute_url) {
    return fail(codecProtocolError(kDetailsInvalidUrl), 400);
  }
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(url_.data(), url_.size(), 0, &url) != 0 || !fieldSet(url, UF_SCHEMA) ||
      !fieldSet(url, UF_HOST) || fieldSet(url, UF_USERINFO)) {
    return fail(codecProtocolError(kDetailsInvalidUrl), 400);
  }
  const std::string scheme = absl::AsciiStrToLower(field(url_, url, UF_SCHEMA));
  if (scheme != "http" && scheme != "https") {
    return fail(codecProtocolError(kDetailsInvalidUrl), 400);
  }
  // The authority as written, brackets of an IPv6 literal and port included.
  size_t begin = url.field_data[UF_HOST].off;
  size_t end = begin + url.field_data[UF_HOST].len;
  if (begin > 0 && url_[begin - 1] == '[') {
    --begin;
    ++end;
  }
  if (fieldSet(url, UF_PORT)) {
    end = url.field_data[UF_PORT].off + url.field_data[UF_PORT].len;
  }
  const absl::string_view authority = absl::string_view(url_).substr(begin, end - begin);
  if (!validAuthority(authority)) {
    return fail(codecProtocolError(kDetailsInvalidUrl), 400);
  }
  std::string path = fieldSet(url, UF_PATH) ? std::string(field(url_, url, UF_PATH)) : "/";
  if (fieldSet(url, UF_QUERY)) {
    absl::StrAppend(&path, "?", field(url_, url, UF_QUERY));
  }
  // RFC 9112 3.2.2: a proxy ignores Host for an absolute-form target and uses the target's.
  headers.addCopy(":scheme", scheme);
  headers.addCopy(":authority", authority);
  headers.addCopy(":path", path);
  return absl::OkStatus();
}

absl::StatusOr<int> ServerConnectionImpl::onHeadersCompleteImpl() {
  if (active_request_ == nullptr) {
    return fail(codecProtocolError(kDetailsCodecError), 400);
  }
  HeaderMap& request = headers();

  // HTTP/0.9 request lines never get here (the validator refuses them); "HTTP/2.0" and the like do.
  if (parser_.http_major != 1) {
    return fail(codecProtocolError(kDetailsCodecError), 400);
  }
  const bool http10 = parser_.http_minor == 0;
  protocol_ = http10 ? Protocol::Http10 : Protocol::Http11;
  if (http10 && !settings_.accept_http_10) {
    return fail(codecProtocolError(kDetailsLowVersion), 426);
  }

  const bool is_connect = parser_.method == HTTP_CONNECT;
  if (absl::Status status = checkBodyFraming(request, is_connect); !status.ok()) {
    return status;
  }
  if (http10 && request.has("transfer-encoding")) {
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means the framing may be faulty: serve this
    // request, then close.
    close_connection_ = true;
  }
  if (is_connect) {
    // RFC 9110 9.3.6: a CONNECT body has no meaning; Envoy tolerates "content-length: 0".
    if (request.has("content-length")) {
      if (request.getValue("content-length") != "0") {
        return fail(codecProtocolError(kDetailsBodyDisallowed), 400);
      }
      request.remove("content-length");
    }
  }
  request.addCopy(":method", http_method_str(static_cast<http_method>(parser_.method)));
  if (absl::Status status = handleRequestTarget(request, is_connect); !status.ok()) {
    return status;
  }

  bool upgrade = isUpgradeRequest(request);
  if (upgrade && absl::EqualsIgnoreCase(request.getValue("upgrade"), "h2c")) {
    // As Envoy: h2c upgrades are not supported; serve the request as plain HTTP/1.1.
    request.remove("upgrade");
    request.remove("http2-settings");
    removeHeaderTokens(request, "connection", {"upgrade", "http2-settings"});
    upgrade = false;
  }

  // Keep-alive (RFC 9112 9.3): HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive".
  if (http10 ? !headerHasToken(request, "connection", "keep-alive")
             : headerHasToken(request, "connection", "close")) {
    close_connection_ = true;
  }

  ResponseEncoderImpl::RequestInfo info;
  info.head = parser_.method == HTTP_HEAD;
  info.connect = is_connect;
  info.upgrade = upgrade;
  info.http10 = http10;
  active_request_->encoder.setRequestInfo(info);
  handling_upgrade_ = upgrade || is_connect;

  const bool has_body = (parser_.flags & F_CHUNKED) != 0 ||
                        (parser_.content_length > 0 && parser_.content_length != kNoContentLength);
  if (!has_body && !handling_upgrade_) {
    // Like HTTP/2, a request without a body arrives as headers with end_stream.
    deferred_end_stream_headers_ = true;
    return 0;
  }
  if (RequestDecoder* decoder = liveDecoder(); decoder != nullptr) {
    decoder->decodeHeaders(takeHeaders(), false);
  }
  // After an upgrade or CONNECT, whatever follows the headers is the stream's data, raw.
  return handling_upgrade_ ? 2 : 0;
}

void ServerConnectionImpl::onBodyImpl(buffer::Instance& data, bool end_stream) {
  RequestDecoder* decoder = liveDecoder();
  if (decoder == nullptr) {
    return;
  }
  if (end_stream) {
    // Before the call: the decoder may answer at once, and the answer must see the request done.
    active_request_->remote_complete = true;
  }
  decoder->decodeData(data, end_stream);
}

absl::Status ServerConnectionImpl::onMessageCompleteImpl(HeaderMapPtr trailers) {
  if (active_request_ == nullptr || handling_upgrade_) {
    // Reset or finished already; or an upgrade, whose stream goes on with raw bytes.
    return absl::OkStatus();
  }
  ActiveRequest* request = active_request_.get();
  if (!request->remote_complete) {
    request->remote_complete = true;
    RequestDecoder* decoder = liveDecoder();
    if (decoder != nullptr) {
      if (deferred_end_stream_headers_) {
        deferred_end_stream_headers_ = false;
        decoder->decodeHeaders(takeHeaders(), true);
      } else if (trailers != nullptr && settings_.enable_trailers) {
        decoder->decodeTrailers(std::move(trailers));
      } else {
        buffer::OwnedImpl empty;
        decoder->decodeData(empty, true);
      }
    }
  }
  // The decoder may have answered (or reset the stream) from inside those calls.
  if (active_request_.get() == request) {
    if (request->encoder.localComplete()) {
      finishRequest();
    } else if (!waiting_for_response_) {
      waiting_for_response_ = true;
      transport_.readDisable(true);
    }
  }
  return absl::OkStatus();
}

void ServerConnectionImpl::onRawData(buffer::Instance& data, bool end_stream) {
  RequestDecoder* decoder = liveDecoder();
  if (decoder == nullptr) {
    data.drain(data.length());
    return;
  }
  buffer::OwnedImpl chunk;
  chunk.move(data);
  if (end_stream) {
    active_request_->remote_complete = true;
  }
  decoder->decodeData(chunk, end_stream);
}

void ServerConnectionImpl::onEncodeComplete(StreamEncoderImpl& stream) {
  if (active_request_ == nullptr || &active_request_->encoder != &stream) {
    return;
  }
  if (active_request_->remote_complete) {
    finishRequest();
  } else {
    // The response finished before the request: the rest of the request cannot be told apart
    // from the next one's start.
    close_connection_ = true;
  }
  if (close_connection_) {
    // Close after what was written: end of stream on the transport.
    endOutput();
  }
}

void ServerConnectionImpl::onStreamReset(StreamEncoderImpl& stream, StreamResetReason reason) {
  if (active_request_ == nullptr || &active_request_->encoder != &stream) {
    return;
  }
  // An HTTP/1 response cut short leaves the client unable to frame anything after it.
  close_connection_ = true;
  ResponseEncoderImpl& encoder = active_request_->encoder;
  finishRequest();
  encoder.runResetCallbacks(reason);
  if (reason == StreamResetReason::ConnectionTermination ||
      reason == StreamResetReason::ConnectionFailure) {
    output_ended_ = true;  // the connection is going away already: nothing to flush
  } else if (!output_ended_) {
    endOutput();
  }
}

void ServerConnectionImpl::finishRequest() {
  active_request_->encoder.detach();
  if (waiting_for_response_) {
    waiting_for_response_ = false;
    transport_.readDisable(false);
  }
  finished_requests_.push_back(std::move(active_request_));
}

}  // namespace waystone::http::http1
