#pragma once

#include <string>
#include <vector>

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

// A cluster's transport_socket: UpstreamTlsContext (TLS, with its sni), RawBuffer, or
// InternalUpstreamTransport around a RawBuffer (plain bytes; what it passes through is read by
// internalUpstreamPassthrough()).
absl::StatusOr<network::TransportSocketFactoryCb> createClientTransportFactory(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path);

// One passthrough_metadata entry of an internal_upstream transport socket: the metadata
// namespace `name`, taken from the host (endpoint metadata) or from the cluster's metadata.
struct MetadataPassthrough {
  enum class Kind { Host, Cluster } kind;
  std::string name;
};

// The passthrough_metadata of an internal_upstream transport socket; empty for any other.
// Kinds other than host and cluster (route, request) are refused, naming the field.
absl::StatusOr<std::vector<MetadataPassthrough>> internalUpstreamPassthrough(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path);

}  // namespace waystone::extensions::transport_sockets
