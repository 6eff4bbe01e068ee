#pragma once

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/address.pb.h"

#include "source/common/network/address.h"

namespace waystone::network::address {

// Builds an address from Envoy's config proto. Errors name the sub-field, e.g.
//   socket_address.address: "foo" is not an IP address (names are not resolved here)
// Supported: socket_address with an IP literal, port_value and protocol TCP (ipv4_compat is
// ignored); pipe with a path ("@name" is the abstract namespace; mode is checked but not applied
// here: the listener that binds it owns the file permissions); envoy_internal_address with a
// server_listener_name (and optional endpoint_id), giving a Type::Internal address that only
// internal connections can reach (createClientConnection routes it there).
absl::StatusOr<InstanceConstSharedPtr> fromProto(const envoy::config::core::v3::Address& proto);

// The socket_address part alone (errors are prefixed "socket_address.").
absl::StatusOr<InstanceConstSharedPtr> fromProto(
    const envoy::config::core::v3::SocketAddress& proto);

}  // namespace waystone::network::address
