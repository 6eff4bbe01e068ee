#pragma once

#include <functional>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_manager_config.h"

namespace waystone::http {

// Creates the server codec for a downstream connection. The only place that knows the concrete
// HTTP/1.1 and HTTP/2 codec classes.
// `on_error` hears about errors found outside dispatch() (an HTTP/2 keepalive PING that went
// unanswered): the owner closes the connection.
ServerConnectionPtr createServerCodec(Protocol protocol, CodecTransport& transport,
                                      ServerConnectionCallbacks& callbacks,
                                      const ConnectionManagerConfig& config,
                                      event::Dispatcher& dispatcher,
                                      std::function<void(const absl::Status&)> on_error);

// The HTTP status to answer an HTTP/1 protocol error with (400, or 431 for header limits), if
// the codec reports one.
uint32_t http1ErrorStatus(const ServerConnection& codec);

}  // namespace waystone::http

namespace waystone::http {

// Creates the client codec for an upstream connection.
ClientConnectionPtr createClientCodec(Protocol protocol, CodecTransport& transport,
                                      ConnectionCallbacks& callbacks,
                                      const Http2Settings& http2_settings,
                                      const HeaderLimits& limits, event::Dispatcher& dispatcher);

}  // namespace waystone::http
