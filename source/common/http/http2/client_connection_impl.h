#pragma once

#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http2/codec_runtime.h"
#include "source/common/http/http2/connection_impl.h"
#include "source/common/http/http2/stream_impl.h"

namespace waystone::http::http2 {

// The upstream side of an HTTP/2 connection: requests out, responses in. The connection preface
// and SETTINGS are written to the transport by the constructor. Server push is disabled.
//
// A request whose HEADERS never leave (the server sent GOAWAY first, or the stream ids ran out)
// is reset with RemoteRefusedStreamReset, which is safe to retry on another connection.
class ClientConnectionImpl : public ConnectionImpl, public ClientConnection {
 public:
  ClientConnectionImpl(CodecTransport& transport, ConnectionCallbacks& callbacks,
                       const Http2Settings& settings, const HeaderLimits& header_limits,
                       CodecRuntime runtime = {});

  // ClientConnection
  RequestEncoder& newStream(ResponseDecoder& decoder) override;
  uint64_t maxConcurrentStreams() const override;

 protected:
  // ConnectionImpl
  int onBeginHeaders(const nghttp2_frame& frame) override;
  void onHeadersComplete(StreamImpl& stream, const nghttp2_frame& frame) override;

 private:
  class ClientStreamImpl : public StreamImpl, public RequestEncoder {
   public:
    ClientStreamImpl(ClientConnectionImpl& parent, uint32_t buffer_limit, ResponseDecoder& decoder)
        : StreamImpl(parent, buffer_limit), decoder_(decoder) {}

    // RequestEncoder
    absl::Status encodeHeaders(const RequestHeaderMap& headers, bool end_stream) override;
    void encodeTrailers(const RequestTrailerMap& trailers) override;

    ResponseDecoder& decoder_;
    bool final_headers_received_ = false;

   protected:
    void deliverData(buffer::Instance& data, bool end_stream) override;
    void deliverTrailers(HeaderMapPtr&& trailers) override;
  };
};

}  // namespace waystone::http::http2
