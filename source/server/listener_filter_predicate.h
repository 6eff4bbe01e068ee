#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/listener/v3/listener_components.pb.h"

#include "source/common/network/connection_socket.h"

namespace waystone::server {

// Compiles a listener filter's `filter_disabled` predicate (or_match, and_match, not_match,
// any_match, destination_port_range [start, end)). The destination port is the socket's local
// port as it is when the filter's turn comes, so after original_dst it is the restored one.
// Errors name the field under `path`.
absl::StatusOr<std::function<bool(const network::ConnectionSocket&)>>
compileListenerFilterPredicate(
    const envoy::config::listener::v3::ListenerFilterChainMatchPredicate& predicate,
    const std::string& path);

}  // namespace waystone::server
