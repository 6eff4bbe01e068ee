#include "source/upstream/upstream_connection.h"

#include <utility>

#include "source/common/network/connection_impl.h"
#include "source/common/network/internal/internal_connection.h"

namespace waystone::upstream {
namespace {

// Envoy's internal_upstream: each passthrough entry copies one filter_metadata namespace from
// the host or the cluster; a namespace absent there is skipped, and a later entry of the same
// name wins.
envoy::config::core::v3::Metadata passthroughMetadata(
    const Host& host, const Cluster& cluster,
    const std::vector<extensions::transport_sockets::MetadataPassthrough>& entries) {
  envoy::config::core::v3::Metadata out;
  for (const auto& entry : entries) {
    const envoy::config::core::v3::Metadata& source =
        entry.kind == extensions::transport_sockets::MetadataPassthrough::Kind::Host
            ? host.metadata()
            : cluster.metadata();
    const auto it = source.filter_metadata().find(entry.name);
    if (it != source.filter_metadata().end()) {
      (*out.mutable_filter_metadata())[entry.name] = it->second;
    }
  }
  return out;
}

}  // namespace

network::ClientConnectionPtr createUpstreamConnection(
    event::Dispatcher& dispatcher, const Host& host, const Cluster& cluster,
    const stream_info::FilterState* downstream_state) {
  if (host.address()->type() == network::address::Type::Internal) {
    network::InternalConnectionOptions options;
    if (const auto& internal = cluster.internalUpstream(); internal.has_value()) {
      if (downstream_state != nullptr) {
        options.shared_filter_state = downstream_state->objectsSharedWithUpstreamConnection();
      }
      options.metadata = passthroughMetadata(host, cluster, *internal);
    }
    // The cluster's transport factory is empty for internal_upstream (raw bytes in process);
    // whatever else it makes is refused by the internal connection with a clear reason.
    return network::createInternalClientConnection(dispatcher, host.address(), std::move(options),
                                                   cluster.createTransportSocket());
  }
  return network::createClientConnection(dispatcher, host.address(), nullptr,
                                         cluster.createTransportSocket());
}

}  // namespace waystone::upstream
