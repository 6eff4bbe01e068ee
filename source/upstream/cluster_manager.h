#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

#include "source/common/stats/store.h"
#include "source/upstream/cluster.h"
#include "source/upstream/dns_resolver.h"

namespace waystone::upstream {

// The set of clusters, built on the main thread from the bootstrap. Immutable once built; the
// dynamic (CDS) version arrives with xDS and will swap whole snapshots. The hosts of each cluster
// change through WorkerClusterManagers (DNS refresh, later EDS); Cluster::hosts() keeps the
// start-up ones.
class ClusterManager {
 public:
  // Builds every static cluster. Errors name the field path, e.g.
  // "static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address:
  // ...". STRICT_DNS / LOGICAL_DNS names are resolved with `dns_resolver` (getaddrinfo when
  // null), which WorkerClusterManagers then uses for the periodic refreshes.
  static absl::StatusOr<std::unique_ptr<ClusterManager>> create(
      const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
      DnsResolverSharedPtr dns_resolver = nullptr);

  // nullptr if there is no such cluster.
  ClusterConstSharedPtr get(const std::string& name) const;
  const std::map<std::string, ClusterConstSharedPtr>& clusters() const { return clusters_; }
  const DnsResolverSharedPtr& dnsResolver() const { return dns_resolver_; }

 private:
  std::map<std::string, ClusterConstSharedPtr> clusters_;
  DnsResolverSharedPtr dns_resolver_;
};

using ClusterManagerPtr = std::unique_ptr<ClusterManager>;

}  // namespace waystone::upstream
