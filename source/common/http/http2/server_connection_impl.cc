#include "source/common/http/http2/server_connection_impl.h"

#include "source/common/common/logger.h"
#include "source/common/http/http2/header_nv_list.h"

namespace waystone::http::http2 {

ServerConnectionImpl::ServerConnectionImpl(CodecTransport& transport,
                                           ServerConnectionCallbacks& callbacks,
                                           const Http2Settings& settings,
                                           const HeaderLimits& header_limits, CodecRuntime runtime)
    : ConnectionImpl(transport, callbacks, settings, header_limits, std::move(runtime),
                     /*is_server=*/true),
      server_callbacks_(callbacks) {}

int ServerConnectionImpl::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  if (frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
    StreamImpl& stream =
        addStream(std::make_unique<ServerStreamImpl>(*this, transportBufferLimit()));
    registerStreamId(stream, frame.hd.stream_id);
    stream.decoding_headers_ = std::make_unique<HeaderMap>();
    onInboundStreamOpened();
    return 0;
  }
  // Trailers on a stream we know (nghttp2 checks that they end the stream).
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream != nullptr && !stream->reset_notified_) {
    stream->decoding_headers_ = std::make_unique<HeaderMap>();
  }
  return 0;
}

void ServerConnectionImpl::onHeadersComplete(StreamImpl& stream, const nghttp2_frame& frame) {
  auto& server_stream = static_cast<ServerStreamImpl&>(stream);
  HeaderMapPtr headers = std::move(stream.decoding_headers_);
  const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (server_stream.decoder_ != nullptr) {
    stream.onTrailers(std::move(headers));
    return;
  }
  if (headers->method() == "CONNECT" && !settings().allow_connect) {
    WAYSTONE_LOG(debug, http2, "stream %d: CONNECT refused (allow_connect is off)",
                 frame.hd.stream_id);
    stream.peer_misbehaved_ = true;
    stream.runResetCallbacks(StreamResetReason::ProtocolError, "http2.connect_not_allowed");
    submitReset(stream, StreamResetReason::ProtocolError);
    return;
  }
  if (end_stream) {
    stream.remote_end_ = true;
    stream.end_delivered_ = true;
  }
  RequestDecoder& decoder = server_callbacks_.newStream(server_stream);
  server_stream.decoder_ = &decoder;
  decoder.decodeHeaders(std::move(headers), end_stream);
}

void ServerConnectionImpl::ServerStreamImpl::encode1xxHeaders(const ResponseHeaderMap& headers) {
  if (!active() || reset_notified_ || final_headers_submitted_) {
    return;
  }
  const uint64_t status = headers.status();
  if (status < 100 || status >= 200 || status == 101) {
    WAYSTONE_LOG(debug, http2, "stream %d: not a 1xx status, dropped", stream_id_);
    return;
  }
  HeaderNvList nv(headers);
  const int rv = nghttp2_submit_headers(parent_.session(), NGHTTP2_FLAG_NONE, stream_id_, nullptr,
                                        nv.data(), nv.size(), nullptr);
  if (rv < 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_submit_headers (1xx): %s", nghttp2_strerror(rv));
    return;
  }
  parent_.sendPending();
}

void ServerConnectionImpl::ServerStreamImpl::encodeHeaders(const ResponseHeaderMap& headers,
                                                           bool end_stream) {
  if (!active() || reset_notified_ || final_headers_submitted_) {
    return;
  }
  if (headers.status() < 200) {
    WAYSTONE_LOG(debug, http2, "stream %d: response without a final :status", stream_id_);
    resetStream(StreamResetReason::LocalReset);
    return;
  }
  HeaderNvList nv(headers);
  nghttp2_data_provider provider = parent_.dataProvider(*this);
  const int rv = nghttp2_submit_response(parent_.session(), stream_id_, nv.data(), nv.size(),
                                         end_stream ? nullptr : &provider);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_submit_response: %s", nghttp2_strerror(rv));
    resetStream(StreamResetReason::LocalReset);
    return;
  }
  final_headers_submitted_ = true;
  headers_submitted_ = true;
  data_provider_attached_ = !end_stream;
  if (end_stream) {
    local_end_requested_ = true;
  }
  parent_.sendPending();
}

void ServerConnectionImpl::ServerStreamImpl::encodeTrailers(const ResponseTrailerMap& trailers) {
  if (!final_headers_submitted_) {
    return;
  }
  encodeTrailersBase(trailers);
}

void ServerConnectionImpl::ServerStreamImpl::deliverData(buffer::Instance& data, bool end_stream) {
  if (decoder_ != nullptr) {
    decoder_->decodeData(data, end_stream);
  }
}

void ServerConnectionImpl::ServerStreamImpl::deliverTrailers(HeaderMapPtr&& trailers) {
  if (decoder_ != nullptr) {
    decoder_->decodeTrailers(std::move(trailers));
  }
}

}  // namespace waystone::http::http2
