#include "source/common/http/http1/client_connection_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/assert.h"
#include "source/common/http/http1/codec_details.h"
#include "source/common/http/http1/header_tokens.h"

namespace waystone::http::http1 {
namespace {

constexpr uint64_t kNoContentLength = ~uint64_t{0};

}  // namespace

ClientConnectionImpl::ClientConnectionImpl(CodecTransport& transport,
                                           ConnectionCallbacks& callbacks,
                                           const Http1Settings& settings,
                                           const HeaderLimits& limits)
    : ConnectionImpl(transport, HTTP_RESPONSE, settings, limits), callbacks_(callbacks) {}

ClientConnectionImpl::~ClientConnectionImpl() = default;

RequestEncoder& ClientConnectionImpl::newStream(ResponseDecoder& decoder) {
  WAYSTONE_RELEASE_ASSERT(active_ == nullptr, "HTTP/1 client codec: one request at a time");
  active_ = std::make_unique<PendingRequest>(*this);
  active_->decoder = &decoder;
  return active_->encoder;
}

StreamEncoderImpl* ClientConnectionImpl::activeStream() {
  return active_ == nullptr ? nullptr : &active_->encoder;
}

bool ClientConnectionImpl::canDeliver() const {
  return active_ == nullptr || !active_->encoder.readDisabled();
}

bool ClientConnectionImpl::dropInput() const {
  // After a reset, or after the last response of a closing connection.
  return close_connection_ && active_ == nullptr;
}

absl::Status ClientConnectionImpl::checkBeforeParse() {
  if (active_ == nullptr || !active_->encoder.headersEncoded()) {
    return fail(prematureResponseError(kDetailsPrematureResponse), 0);
  }
  return absl::OkStatus();
}

absl::Status ClientConnectionImpl::onMessageBeginImpl() {
  if (active_ == nullptr || !active_->encoder.headersEncoded()) {
    return fail(prematureResponseError(kDetailsPrematureResponse), 0);
  }
  ignore_message_complete_ = false;
  deferred_end_stream_headers_ = false;
  response_done_ = false;
  return absl::OkStatus();
}

ResponseDecoder* ClientConnectionImpl::completeResponse() {
  response_done_ = true;
  if (!active_->encoder.localComplete()) {
    // The request is still going out; its remaining bytes would be read as the next request.
    close_connection_ = true;
  }
  ResponseDecoder* decoder = active_->decoder;
  active_->encoder.detach();
  finished_.push_back(std::move(active_));
  return decoder;
}

absl::StatusOr<int> ClientConnectionImpl::onHeadersCompleteImpl() {
  if (active_ == nullptr) {
    return fail(prematureResponseError(kDetailsPrematureResponse), 0);
  }
  HeaderMap& response = headers();
  if (parser_.http_major != 1) {
    return fail(codecProtocolError(kDetailsCodecError), 0);
  }
  const uint32_t status = parser_.status_code;
  response.addCopy(":status", absl::StrCat(status));
  RequestEncoderImpl& request = active_->encoder;

  // Envoy's strict 1xx/204 rules: no framing headers where no body can be.
  if (status < 200 || status == 204) {
    if (response.has("transfer-encoding")) {
      return fail(codecProtocolError(kDetailsTransferEncodingNotAllowed), 0);
    }
    if (response.has("content-length")) {
      if (response.getValue("content-length") != "0") {
        return fail(codecProtocolError(kDetailsContentLengthNotAllowed), 0);
      }
      response.remove("content-length");
    }
  }
  if (absl::Status status_check = checkBodyFraming(response, false); !status_check.ok()) {
    return status_check;
  }

  if (status == 101) {
    if (!request.upgradeRequest()) {
      return fail(codecProtocolError(kDetailsUnexpectedUpgrade), 0);
    }
    handling_upgrade_ = true;
    close_connection_ = true;
    active_->decoder->decodeHeaders(takeHeaders(), false);
    return 2;
  }
  if (status < 200) {
    // Informational: the final response follows on the same connection.
    ignore_message_complete_ = true;
    if (status == 100) {
      active_->decoder->decode1xxHeaders(takeHeaders());
    }
    return 1;
  }

  // Keep-alive (RFC 9112 9.3).
  if (parser_.http_minor == 0 ? !headerHasToken(response, "connection", "keep-alive")
                              : headerHasToken(response, "connection", "close")) {
    close_connection_ = true;
  }
  if (request.connectRequest() && status < 300) {
    handling_upgrade_ = true;
    close_connection_ = true;
    response.remove("content-length");
    response.remove("transfer-encoding");
    active_->decoder->decodeHeaders(takeHeaders(), false);
    return 2;
  }
  if (request.connectRequest() || request.upgradeRequest()) {
    // Refused: tunnel bytes may already be on their way to the server.
    close_connection_ = true;
  }
  if (request.headRequest() || status == 204 || status == 304) {
    deferred_end_stream_headers_ = true;
    return 1;
  }
  const bool chunked = (parser_.flags & F_CHUNKED) != 0;
  if (!chunked && parser_.content_length == 0) {
    deferred_end_stream_headers_ = true;
    return 0;
  }
  if (!chunked && parser_.content_length == kNoContentLength) {
    // Close-delimited (RFC 9112 6.3 rule 8).
    close_connection_ = true;
  }
  active_->decoder->decodeHeaders(takeHeaders(), false);
  return 0;
}

void ClientConnectionImpl::onBodyImpl(buffer::Instance& data, bool end_stream) {
  if (active_ == nullptr || response_done_) {
    return;
  }
  if (end_stream) {
    completeResponse()->decodeData(data, true);
    return;
  }
  active_->decoder->decodeData(data, false);
}

absl::Status ClientConnectionImpl::onMessageCompleteImpl(HeaderMapPtr trailers) {
  if (ignore_message_complete_) {
    ignore_message_complete_ = false;
    return absl::OkStatus();
  }
  if (active_ == nullptr || response_done_ || handling_upgrade_) {
    return absl::OkStatus();
  }
  const bool deferred = deferred_end_stream_headers_;
  deferred_end_stream_headers_ = false;
  HeaderMapPtr response_headers = deferred ? takeHeaders() : nullptr;
  ResponseDecoder* decoder = completeResponse();
  if (deferred) {
    decoder->decodeHeaders(std::move(response_headers), true);
  } else if (trailers != nullptr && settings_.enable_trailers) {
    decoder->decodeTrailers(std::move(trailers));
  } else {
    buffer::OwnedImpl empty;
    decoder->decodeData(empty, true);
  }
  return absl::OkStatus();
}

void ClientConnectionImpl::onRawData(buffer::Instance& data, bool end_stream) {
  if (active_ == nullptr) {
    data.drain(data.length());
    return;
  }
  buffer::OwnedImpl chunk;
  chunk.move(data);
  if (end_stream) {
    completeResponse()->decodeData(chunk, true);
    return;
  }
  active_->decoder->decodeData(chunk, false);
}

absl::Status ClientConnectionImpl::onEndOfStream() {
  // Completes a close-delimited body; fails in the middle of any other message; nothing between
  // messages.
  return parseEndOfStream();
}

void ClientConnectionImpl::onEncodeComplete(StreamEncoderImpl& stream) {
  if (stream.framing() == StreamEncoderImpl::BodyFraming::Raw &&
      static_cast<RequestEncoderImpl&>(stream).connectRequest()) {
    // The end of a CONNECT tunnel's upstream direction is a half-close (as Envoy).
    buffer::OwnedImpl empty;
    transport_.write(empty, true);
  }
}

void ClientConnectionImpl::onStreamReset(StreamEncoderImpl& stream, StreamResetReason reason) {
  if (active_ == nullptr || &active_->encoder != &stream) {
    return;
  }
  // Whatever was half sent or half received cannot be resynchronised.
  close_connection_ = true;
  RequestEncoderImpl& encoder = active_->encoder;
  encoder.detach();
  finished_.push_back(std::move(active_));
  encoder.runResetCallbacks(reason);
}

}  // namespace waystone::http::http1
