#include "source/upstream/cluster_manager.h"

#include "absl/strings/str_cat.h"
#include "envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream.pb.h"

#include "source/common/common/logger.h"
#include "source/common/network/address_proto.h"
#include "source/common/protobuf/utility.h"
#include "source/extensions/transport_sockets/transport_socket_config.h"
#include "source/upstream/getaddrinfo_dns_resolver.h"

namespace waystone::upstream {
namespace {

using envoy::extensions::transport_sockets::internal_upstream::v3::InternalUpstreamTransport;

bool isDns(const envoy::config::cluster::v3::Cluster& config) {
  return config.type() == envoy::config::cluster::v3::Cluster::STRICT_DNS ||
         config.type() == envoy::config::cluster::v3::Cluster::LOGICAL_DNS;
}

// What each lb_endpoint becomes, in load_assignment order. STRICT_DNS / LOGICAL_DNS names are
// resolved here, synchronously, once: a name that does not resolve at start-up is a config error
// (DnsClusterRefresher re-resolves them later, off the main loop). ORIGINAL_DST hosts come from
// each request; EDS clusters start from their inline load_assignment, like STATIC ones, until EDS
// updates arrive with xDS.
absl::StatusOr<std::vector<HostVector>> buildEndpointHosts(
    const envoy::config::cluster::v3::Cluster& config, const std::string& path,
    DnsResolver& resolver, ClusterStats* stats_for_dns) {
  std::vector<HostVector> endpoint_hosts;
  if (config.type() == envoy::config::cluster::v3::Cluster::ORIGINAL_DST) {
    return endpoint_hosts;
  }
  const bool dns = isDns(config);
  const auto& assignment = config.load_assignment();
  for (int i = 0; i < assignment.endpoints_size(); ++i) {
    const auto& locality_endpoints = assignment.endpoints(i);
    for (int j = 0; j < locality_endpoints.lb_endpoints_size(); ++j) {
      const auto& lb_endpoint = locality_endpoints.lb_endpoints(j);
      const std::string field = absl::StrCat(path, ".load_assignment.endpoints[", i,
                                             "].lb_endpoints[", j, "].endpoint.address");
      const auto& address = lb_endpoint.endpoint().address();
      const uint32_t weight =
          lb_endpoint.has_load_balancing_weight() ? lb_endpoint.load_balancing_weight().value() : 1;
      std::string hostname = lb_endpoint.endpoint().hostname();
      std::vector<network::address::InstanceConstSharedPtr> addresses;
      if (dns && address.has_socket_address()) {
        const auto& socket_address = address.socket_address();
        stats_for_dns->update_attempt.inc();
        DnsResolution resolved = resolver.resolve(
            socket_address.address(), static_cast<uint16_t>(socket_address.port_value()),
            config.dns_lookup_family());
        if (resolved.status != DnsResolution::Status::kSuccess || resolved.addresses.empty()) {
          stats_for_dns->update_failure.inc();
          return absl::InvalidArgumentError(absl::StrCat(
              field, ".socket_address.address: cannot resolve \"", socket_address.address(),
              "\": ", resolved.details.empty() ? "no usable address" : resolved.details));
        }
        stats_for_dns->update_success.inc();
        // LOGICAL_DNS uses only the first address, as Envoy does.
        if (config.type() == envoy::config::cluster::v3::Cluster::LOGICAL_DNS) {
          resolved.addresses.resize(1);
        }
        addresses = std::move(resolved.addresses);
        // Envoy names DNS hosts after the name they came from unless the endpoint has a hostname.
        if (hostname.empty()) {
          hostname = socket_address.address();
        }
      } else {
        auto parsed = network::address::fromProto(address);
        if (!parsed.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(field, ".", parsed.status().message()));
        }
        addresses.push_back(*parsed);
      }
      HostVector hosts;
      for (auto& a : addresses) {
        hosts.push_back(std::make_shared<const Host>(config.name(), std::move(a), weight,
                                                     locality_endpoints.locality(), hostname,
                                                     lb_endpoint.metadata()));
      }
      endpoint_hosts.push_back(std::move(hosts));
    }
  }
  return endpoint_hosts;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterManager>> ClusterManager::create(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
    DnsResolverSharedPtr dns_resolver) {
  auto manager = std::unique_ptr<ClusterManager>(new ClusterManager());
  manager->dns_resolver_ =
      dns_resolver != nullptr ? std::move(dns_resolver) : GetaddrinfoDnsResolver::instance();
  const auto& clusters = bootstrap.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    const auto& config = clusters[i];
    const std::string path = absl::StrCat("static_resources.clusters[", i, "]");
    if (manager->clusters_.count(config.name()) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".name: duplicate cluster name \"", config.name(), "\""));
    }
    network::TransportSocketFactoryCb transport_factory;
    std::optional<std::vector<extensions::transport_sockets::MetadataPassthrough>>
        internal_upstream;
    if (config.has_transport_socket()) {
      auto factory = extensions::transport_sockets::createClientTransportFactory(
          config.transport_socket(), protobuf::LoadOptions{}, path + ".transport_socket");
      if (!factory.ok()) {
        return factory.status();
      }
      transport_factory = std::move(*factory);
      if (protobuf::typeUrlOf(config.transport_socket().typed_config()) ==
          InternalUpstreamTransport::descriptor()->full_name()) {
        auto entries = extensions::transport_sockets::internalUpstreamPassthrough(
            config.transport_socket(), protobuf::LoadOptions{}, path + ".transport_socket");
        if (!entries.ok()) {
          return entries.status();
        }
        internal_upstream = std::move(*entries);
      }
    }
    auto scope = store.createScope(absl::StrCat("cluster.", config.name(), "."));
    // The start-up resolutions count in the cluster's update_* stats, as Envoy's first
    // resolution does.
    ClusterStats dns_stats(*scope);
    auto endpoint_hosts = buildEndpointHosts(config, path, *manager->dns_resolver_, &dns_stats);
    if (!endpoint_hosts.ok()) {
      return endpoint_hosts.status();
    }
    manager->clusters_[config.name()] =
        std::make_shared<const Cluster>(config, std::move(*endpoint_hosts), std::move(scope),
                                        std::move(transport_factory), std::move(internal_upstream));
    WAYSTONE_LOG(debug, upstream, "cluster %s: %d hosts", config.name(),
                 manager->clusters_[config.name()]->hosts().size());
  }
  return manager;
}

ClusterConstSharedPtr ClusterManager::get(const std::string& name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

}  // namespace waystone::upstream
