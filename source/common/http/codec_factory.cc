#include "source/common/http/codec_factory.h"

#include "source/common/http/http1/client_connection_impl.h"
#include "source/common/http/http1/server_connection_impl.h"
#include "source/common/http/http2/client_connection_impl.h"
#include "source/common/http/http2/server_connection_impl.h"

namespace waystone::http {

ServerConnectionPtr createServerCodec(Protocol protocol, CodecTransport& transport,
                                      ServerConnectionCallbacks& callbacks,
                                      const ConnectionManagerConfig& config,
                                      event::Dispatcher& dispatcher,
                                      std::function<void(const absl::Status&)> on_error) {
  if (protocol == Protocol::Http2) {
    http2::CodecRuntime runtime = http2::CodecRuntime::fromDispatcher(dispatcher);
    runtime.on_connection_error = std::move(on_error);
    return std::make_unique<http2::ServerConnectionImpl>(
        transport, callbacks, config.http2_settings, config.header_limits, std::move(runtime));
  }
  return std::make_unique<http1::ServerConnectionImpl>(transport, callbacks, config.http1_settings,
                                                       config.header_limits);
}

uint32_t http1ErrorStatus(const ServerConnection& codec) {
  const auto* http1 = dynamic_cast<const http1::ServerConnectionImpl*>(&codec);
  if (http1 == nullptr || http1->lastErrorHttpStatus() == 0) {
    return 400;
  }
  return http1->lastErrorHttpStatus();
}

ClientConnectionPtr createClientCodec(Protocol protocol, CodecTransport& transport,
                                      ConnectionCallbacks& callbacks,
                                      const Http2Settings& http2_settings,
                                      const HeaderLimits& limits, event::Dispatcher& dispatcher) {
  if (protocol == Protocol::Http2) {
    return std::make_unique<http2::ClientConnectionImpl>(
        transport, callbacks, http2_settings, limits,
        http2::CodecRuntime::fromDispatcher(dispatcher));
  }
  return std::make_unique<http1::ClientConnectionImpl>(transport, callbacks, Http1Settings{},
                                                       limits);
}

}  // namespace waystone::http
