#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"

#include "source/upstream/host.h"
#include "source/upstream/load_balancer/host_set.h"

namespace waystone::upstream::lb {

class PrioritySet;
using PrioritySetConstSharedPtr = std::shared_ptr<const PrioritySet>;

// A cluster's hosts as load balancers see them: one HostSet per priority level (0 = most
// preferred; levels with no host in between exist and are empty; there is always level 0).
// Immutable once built and shared by every worker as shared_ptr<const>; the one thing that
// changes is each host's outlier-ejection flag, an atomic, plus a version every change bumps so
// load balancers notice (one atomic load per pick) and rebuild their view.
class PrioritySet {
  struct Passkey {};

 public:
  class Builder {
   public:
    // Applies to every level (Envoy takes it from load_assignment.policy).
    Builder& setOverprovisioningFactor(uint32_t percent);
    Builder& setWeightedPriorityHealth(bool weighted);
    // Adds `host` at `priority`, in the locality host->locality(), with its EDS health.
    Builder& addHost(
        uint32_t priority, HostConstSharedPtr host,
        envoy::config::core::v3::HealthStatus health_status = envoy::config::core::v3::UNKNOWN);
    // The locality's load_balancing_weight at `priority` (0, the default, when never set).
    Builder& setLocalityWeight(uint32_t priority, const envoy::config::core::v3::Locality& locality,
                               uint32_t weight);
    PrioritySetConstSharedPtr build();

   private:
    struct Entry {
      HostConstSharedPtr host;
      envoy::config::core::v3::HealthStatus health_status;
    };
    using LocalityKey = std::tuple<std::string, std::string, std::string>;
    struct Level {
      std::vector<Entry> entries;
      std::map<LocalityKey, uint32_t> locality_weights;
    };
    Level& level(uint32_t priority);

    uint32_t overprovisioning_factor_ = kDefaultOverprovisioningFactor;
    bool weighted_priority_health_ = false;
    std::vector<Level> levels_;
  };

  // From a cluster's load_assignment and the hosts ClusterManager built from it in order (one
  // host per lb_endpoint: STATIC clusters). Takes priority, locality weight and health_status
  // from the proto and the overprovisioning factor from load_assignment.policy. A DNS cluster,
  // whose lb_endpoint may resolve to several hosts, must use the Builder.
  static absl::StatusOr<PrioritySetConstSharedPtr> fromCluster(
      const envoy::config::cluster::v3::Cluster& config, const HostVector& hosts);

  PrioritySet(Passkey, std::vector<HostSet> host_sets, size_t host_count);
  PrioritySet(const PrioritySet&) = delete;
  PrioritySet& operator=(const PrioritySet&) = delete;

  const std::vector<HostSet>& hostSetsPerPriority() const { return host_sets_; }

  // Unique per PrioritySet built in this process; keys shared hash tables.
  uint64_t id() const { return id_; }

  // Outlier detection: an ejected host counts as unhealthy. Callable from any thread (const:
  // the set is shared as const, like Host::stats()). False when `host` is not in this set.
  bool setEjected(const Host& host, bool ejected) const;
  bool isEjected(const Host& host) const;

  // Changes whenever a host's health changes. Load: acquire, so that flags written before the
  // bump are seen by whoever reads the new version.
  uint64_t healthVersion() const { return health_version_.load(std::memory_order_acquire); }

 private:
  const uint64_t id_;
  std::vector<HostSet> host_sets_;
  std::unique_ptr<std::atomic<bool>[]> ejected_;
  absl::flat_hash_map<const Host*, size_t> index_of_;
  mutable std::atomic<uint64_t> health_version_{0};
};

}  // namespace waystone::upstream::lb
