#pragma once

#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"
#include "source/common/stream_info/filter_state.h"
#include "source/upstream/cluster.h"
#include "source/upstream/host.h"

namespace waystone::upstream {

// Opens (does not connect()) a raw upstream connection to `host` of `cluster`: the one place
// that decides how a host is reached.
//
// - An internal address (envoy_internal_address): an in-process connection to that internal
//   listener. When the cluster's transport socket is internal_upstream, it carries
//   `downstream_state`'s objectsSharedWithUpstreamConnection() (may be null: nothing shared) and
//   the passthrough_metadata namespaces, each copied from the host's metadata (kind host) or the
//   cluster's (kind cluster) when present there; the listener sees them as its downstream
//   connection's filter state and dynamic metadata. With any other transport socket nothing is
//   passed, as in Envoy.
// - Any other address: a socket connection with the cluster's transport socket (TLS or plain).
//
// The caller owns limits, stats and the connect timeout.
network::ClientConnectionPtr createUpstreamConnection(
    event::Dispatcher& dispatcher, const Host& host, const Cluster& cluster,
    const stream_info::FilterState* downstream_state);

}  // namespace waystone::upstream
