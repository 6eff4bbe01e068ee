#pragma once

#include <cstdint>

#include "source/upstream/cluster.h"

namespace waystone::upstream {

// Picks hosts for one cluster on one worker. Each worker owns its own instance, so the state
// (the round-robin position) needs no synchronisation.
class RoundRobinLoadBalancer {
 public:
  explicit RoundRobinLoadBalancer(ClusterConstSharedPtr cluster, uint64_t seed)
      : cluster_(std::move(cluster)), next_(seed) {}

  // nullptr when the cluster has no hosts.
  HostConstSharedPtr chooseHost() {
    const HostVector& hosts = cluster_->hosts();
    if (hosts.empty()) {
      return nullptr;
    }
    return hosts[next_++ % hosts.size()];
  }

  const Cluster& cluster() const { return *cluster_; }

 private:
  const ClusterConstSharedPtr cluster_;
  uint64_t next_;
};

}  // namespace waystone::upstream
