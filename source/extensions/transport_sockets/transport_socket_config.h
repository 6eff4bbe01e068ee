#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/base.pb.h"

#include "source/common/network/transport_socket.h"
#include "source/common/protobuf/load_options.h"

namespace waystone::extensions::transport_sockets {

// A filter chain's transport_socket: DownstreamTlsContext (TLS) or RawBuffer (plain). Returns an
// empty callback for plain TCP. Errors name the field under `path`.
absl::StatusOr<network::TransportSocketFactoryCb> createServerTransportFactory(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path);

// A cluster's transport_socket: UpstreamTlsContext (TLS, with its sni) or RawBuffer.
absl::StatusOr<network::TransportSocketFactoryCb> createClientTransportFactory(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path);

}  // namespace waystone::extensions::transport_sockets
