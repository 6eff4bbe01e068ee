#pragma once

#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http2/codec_runtime.h"
#include "source/common/http/http2/connection_impl.h"
#include "source/common/http/http2/stream_impl.h"

namespace waystone::http::http2 {

// The downstream side of an HTTP/2 connection: requests in, responses out.
//
// A stream reaches ServerConnectionCallbacks::newStream() only once its request headers are
// complete and acceptable; a stream reset or refused before that (header limits, bad CONNECT,
// the peer's own RST_STREAM) is never seen by the layers above. CONNECT (RFC 9113 §8.5: :method
// CONNECT, :authority, no :scheme/:path) is accepted only with Http2Settings::allow_connect;
// otherwise the stream is reset with PROTOCOL_ERROR.
//
// max_concurrent_streams: nghttp2 answers streams beyond the limit with RST_STREAM
// REFUSED_STREAM while our SETTINGS are unacknowledged; once the peer has acknowledged them, a
// peer that still exceeds the limit gets a connection error (GOAWAY), as nghttp2 does.
class ServerConnectionImpl : public ConnectionImpl, public ServerConnection {
 public:
  ServerConnectionImpl(CodecTransport& transport, ServerConnectionCallbacks& callbacks,
                       const Http2Settings& settings, const HeaderLimits& header_limits,
                       CodecRuntime runtime = {});

 protected:
  // ConnectionImpl
  int onBeginHeaders(const nghttp2_frame& frame) override;
  void onHeadersComplete(StreamImpl& stream, const nghttp2_frame& frame) override;

 private:
  class ServerStreamImpl : public StreamImpl, public ResponseEncoder {
   public:
    ServerStreamImpl(ServerConnectionImpl& parent, uint32_t buffer_limit)
        : StreamImpl(parent, buffer_limit) {}

    // ResponseEncoder
    void encode1xxHeaders(const ResponseHeaderMap& headers) override;
    void encodeHeaders(const ResponseHeaderMap& headers, bool end_stream) override;
    void encodeTrailers(const ResponseTrailerMap& trailers) override;

    RequestDecoder* decoder_ = nullptr;  // set when the request headers are complete

   protected:
    void deliverData(buffer::Instance& data, bool end_stream) override;
    void deliverTrailers(HeaderMapPtr&& trailers) override;

   private:
    bool final_headers_submitted_ = false;
  };

  ServerConnectionCallbacks& server_callbacks_;
};

}  // namespace waystone::http::http2
