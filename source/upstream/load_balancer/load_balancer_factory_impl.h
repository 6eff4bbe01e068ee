#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

#include "source/upstream/load_balancer/consistent_hash_table_cache.h"
#include "source/upstream/load_balancer/lb_config.h"
#include "source/upstream/load_balancer/load_balancer.h"

namespace waystone::upstream::lb {

// Makes the per-worker load balancers of one cluster from its validated LbConfig. For
// RING_HASH and MAGLEV it owns the table cache its load balancers share.
class LoadBalancerFactoryImpl : public LoadBalancerFactory {
 public:
  explicit LoadBalancerFactoryImpl(const LbConfig& config);

  LoadBalancerPtr create(const PrioritySet& priority_set, uint64_t seed) const override;

  const LbConfig& config() const { return config_; }
  // Null for the per-pick policies.
  const ConsistentHashTableCache* tableCache() const { return cache_.get(); }

 private:
  const LbConfig config_;
  const std::shared_ptr<ConsistentHashTableCache> cache_;
};

// Validates the cluster's lb_policy and its settings (errors name the field, relative to the
// cluster) and returns the factory its workers use.
absl::StatusOr<LoadBalancerFactoryPtr> createLoadBalancerFactory(
    const envoy::config::cluster::v3::Cluster& cluster);

}  // namespace waystone::upstream::lb
