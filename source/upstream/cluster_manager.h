#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

#include "source/common/stats/store.h"
#include "source/upstream/cluster.h"

namespace waystone::upstream {

// The set of clusters, built on the main thread from the bootstrap. Immutable once built; the
// dynamic (CDS) version arrives with xDS and will swap whole snapshots.
class ClusterManager {
 public:
  // Builds every static cluster. Errors name the field path, e.g.
  // "static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address:
  // ...".
  static absl::StatusOr<std::unique_ptr<ClusterManager>> create(
      const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store);

  // nullptr if there is no such cluster.
  ClusterConstSharedPtr get(const std::string& name) const;
  const std::map<std::string, ClusterConstSharedPtr>& clusters() const { return clusters_; }

 private:
  std::map<std::string, ClusterConstSharedPtr> clusters_;
};

using ClusterManagerPtr = std::unique_ptr<ClusterManager>;

}  // namespace waystone::upstream
