#include "source/upstream/cluster_manager.h"

#include <netdb.h>

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/network/address_proto.h"
#include "source/extensions/transport_sockets/transport_socket_config.h"

namespace waystone::upstream {
namespace {

using envoy::config::cluster::v3::Cluster_DiscoveryType;

// STRICT_DNS / LOGICAL_DNS: resolved once when the cluster is built. Periodic re-resolution
// comes with the dynamic cluster work; the docs say so.
absl::StatusOr<std::vector<network::address::InstanceConstSharedPtr>> resolve(
    const envoy::config::core::v3::SocketAddress& socket_address,
    envoy::config::cluster::v3::Cluster::DnsLookupFamily family) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = family == envoy::config::cluster::v3::Cluster::V4_ONLY   ? AF_INET
                    : family == envoy::config::cluster::v3::Cluster::V6_ONLY ? AF_INET6
                                                                             : AF_UNSPEC;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(socket_address.address().c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve \"", socket_address.address(), "\": ", gai_strerror(rc)));
  }
  std::vector<network::address::InstanceConstSharedPtr> out;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    auto address = network::address::parseIp(host, socket_address.port_value());
    if (address.ok()) {
      out.push_back(*address);
    }
  }
  freeaddrinfo(result);
  if (out.empty()) {
    return absl::UnavailableError(
        absl::StrCat("\"", socket_address.address(), "\" resolved to no usable address"));
  }
  return out;
}

absl::StatusOr<HostVector> buildHosts(const envoy::config::cluster::v3::Cluster& config,
                                      const std::string& path) {
  HostVector hosts;
  // ORIGINAL_DST hosts come from each connection (the HBONE work). EDS clusters start from their
  // inline load_assignment, like STATIC ones, until EDS updates arrive with xDS.
  if (config.type() == envoy::config::cluster::v3::Cluster::ORIGINAL_DST) {
    return hosts;
  }
  const bool dns = config.type() == envoy::config::cluster::v3::Cluster::STRICT_DNS ||
                   config.type() == envoy::config::cluster::v3::Cluster::LOGICAL_DNS;
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
      std::vector<network::address::InstanceConstSharedPtr> addresses;
      if (dns && address.has_socket_address()) {
        auto resolved = resolve(address.socket_address(), config.dns_lookup_family());
        if (!resolved.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, ".socket_address.address: ", resolved.status().message()));
        }
        // LOGICAL_DNS uses only the first address, as Envoy does.
        if (config.type() == envoy::config::cluster::v3::Cluster::LOGICAL_DNS) {
          resolved->resize(1);
        }
        addresses = std::move(*resolved);
      } else {
        auto parsed = network::address::fromProto(address);
        if (!parsed.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(field, ".", parsed.status().message()));
        }
        addresses.push_back(*parsed);
      }
      for (auto& a : addresses) {
        hosts.push_back(std::make_shared<const Host>(config.name(), std::move(a), weight,
                                                     locality_endpoints.locality(),
                                                     lb_endpoint.endpoint().hostname()));
      }
    }
  }
  return hosts;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterManager>> ClusterManager::create(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store) {
  auto manager = std::unique_ptr<ClusterManager>(new ClusterManager());
  const auto& clusters = bootstrap.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    const auto& config = clusters[i];
    const std::string path = absl::StrCat("static_resources.clusters[", i, "]");
    if (manager->clusters_.count(config.name()) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".name: duplicate cluster name \"", config.name(), "\""));
    }
    auto hosts = buildHosts(config, path);
    if (!hosts.ok()) {
      return hosts.status();
    }
    network::TransportSocketFactoryCb transport_factory;
    if (config.has_transport_socket()) {
      auto factory = extensions::transport_sockets::createClientTransportFactory(
          config.transport_socket(), protobuf::LoadOptions{}, path + ".transport_socket");
      if (!factory.ok()) {
        return factory.status();
      }
      transport_factory = std::move(*factory);
    }
    auto scope = store.createScope(absl::StrCat("cluster.", config.name(), "."));
    manager->clusters_[config.name()] = std::make_shared<const Cluster>(
        config, std::move(*hosts), std::move(scope), std::move(transport_factory));
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
