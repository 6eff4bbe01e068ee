#include "source/common/http/http2/client_connection_impl.h"

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/http/http2/header_nv_list.h"

namespace waystone::http::http2 {

ClientConnectionImpl::ClientConnectionImpl(CodecTransport& transport,
                                           ConnectionCallbacks& callbacks,
                                           const Http2Settings& settings,
                                           const HeaderLimits& header_limits, CodecRuntime runtime)
    : ConnectionImpl(transport, callbacks, settings, header_limits, std::move(runtime),
                     /*is_server=*/false) {}

RequestEncoder& ClientConnectionImpl::newStream(ResponseDecoder& decoder) {
  StreamImpl& stream =
      addStream(std::make_unique<ClientStreamImpl>(*this, transportBufferLimit(), decoder));
  return static_cast<ClientStreamImpl&>(stream);
}

int ClientConnectionImpl::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream != nullptr && !stream->reset_notified_) {
    stream->decoding_headers_ = std::make_unique<HeaderMap>();
  }
  return 0;
}

void ClientConnectionImpl::onHeadersComplete(StreamImpl& stream, const nghttp2_frame& frame) {
  auto& client_stream = static_cast<ClientStreamImpl&>(stream);
  HeaderMapPtr headers = std::move(stream.decoding_headers_);
  const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (client_stream.final_headers_received_) {
    stream.onTrailers(std::move(headers));
    return;
  }
  const uint64_t status = headers->status();
  if (status >= 100 && status < 200 && !end_stream) {
    // Informational (nghttp2 already rejects 101 and 1xx with END_STREAM).
    client_stream.decoder_.decode1xxHeaders(std::move(headers));
    return;
  }
  client_stream.final_headers_received_ = true;
  if (end_stream) {
    stream.remote_end_ = true;
    stream.end_delivered_ = true;
  }
  client_stream.decoder_.decodeHeaders(std::move(headers), end_stream);
}

absl::Status ClientConnectionImpl::ClientStreamImpl::encodeHeaders(const RequestHeaderMap& headers,
                                                                   bool end_stream) {
  if (!active() || reset_notified_) {
    return absl::FailedPreconditionError("http2.stream_reset");
  }
  if (headers_submitted_) {
    return codecProtocolError("http2.headers_already_sent");
  }
  const absl::string_view method = headers.method();
  if (method.empty()) {
    return codecProtocolError("http2.missing_method");
  }
  HeaderMap request = headers;
  // An HTTP/1 request carries its authority in Host; HTTP/2 in :authority (RFC 9113 §8.3.1).
  if (!request.has(":authority") && request.has("host")) {
    request.setCopy(":authority", std::string(request.getValue("host")));
    request.remove("host");
  }
  if (method == "CONNECT" && request.protocol().empty()) {
    // RFC 9113 §8.5: only :method and :authority.
    if (request.host().empty() || request.has(":path") || request.has(":scheme")) {
      return codecProtocolError("http2.invalid_connect");
    }
  } else {
    if (!request.protocol().empty()) {
      // Extended CONNECT (RFC 8441) needs the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL.
      if (method != "CONNECT" ||
          nghttp2_session_get_remote_settings(parent_.session(),
                                              NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) != 1) {
        return codecProtocolError("http2.extended_connect_not_supported");
      }
    }
    if (request.path().empty()) {
      return codecProtocolError("http2.missing_path");
    }
    if (request.scheme().empty()) {
      return codecProtocolError("http2.missing_scheme");
    }
  }
  HeaderNvList nv(request);
  nghttp2_data_provider provider = parent_.dataProvider(*this);
  const int32_t stream_id = nghttp2_submit_request(parent_.session(), nullptr, nv.data(), nv.size(),
                                                   end_stream ? nullptr : &provider, nullptr);
  if (stream_id < 0) {
    return absl::UnavailableError(
        absl::StrCat("http2.submit_request_failed: ", nghttp2_strerror(stream_id)));
  }
  parent_.registerStreamId(*this, stream_id);
  headers_submitted_ = true;
  data_provider_attached_ = !end_stream;
  if (end_stream) {
    local_end_requested_ = true;
  }
  parent_.sendPending();
  return absl::OkStatus();
}

void ClientConnectionImpl::ClientStreamImpl::encodeTrailers(const RequestTrailerMap& trailers) {
  if (!headers_submitted_) {
    return;
  }
  encodeTrailersBase(trailers);
}

void ClientConnectionImpl::ClientStreamImpl::deliverData(buffer::Instance& data, bool end_stream) {
  decoder_.decodeData(data, end_stream);
}

void ClientConnectionImpl::ClientStreamImpl::deliverTrailers(HeaderMapPtr&& trailers) {
  decoder_.decodeTrailers(std::move(trailers));
}

uint64_t ClientConnectionImpl::maxConcurrentStreams() const {
  // nghttp2 applies a received SETTINGS frame before reporting it; until then the value is the
  // protocol's initial "unlimited".
  return nghttp2_session_get_remote_settings(const_cast<ClientConnectionImpl*>(this)->session(),
                                             NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

}  // namespace waystone::http::http2
