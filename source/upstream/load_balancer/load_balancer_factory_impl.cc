#include "source/upstream/load_balancer/load_balancer_factory_impl.h"

#include "source/common/common/assert.h"
#include "source/upstream/load_balancer/least_request_load_balancer.h"
#include "source/upstream/load_balancer/maglev_load_balancer.h"
#include "source/upstream/load_balancer/random_load_balancer.h"
#include "source/upstream/load_balancer/ring_hash_load_balancer.h"
#include "source/upstream/load_balancer/round_robin_load_balancer.h"

namespace waystone::upstream::lb {

LoadBalancerFactoryImpl::LoadBalancerFactoryImpl(const LbConfig& config)
    : config_(config),
      cache_(config.policy == LbPolicy::kRingHash || config.policy == LbPolicy::kMaglev
                 ? std::make_shared<ConsistentHashTableCache>()
                 : nullptr) {}

LoadBalancerPtr LoadBalancerFactoryImpl::create(const PrioritySet& priority_set,
                                                uint64_t seed) const {
  switch (config_.policy) {
    case LbPolicy::kRoundRobin:
      return std::make_unique<RoundRobinLoadBalancer>(priority_set, config_.common, seed);
    case LbPolicy::kLeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(priority_set, config_.common,
                                                        config_.least_request, seed);
    case LbPolicy::kRandom:
      return std::make_unique<RandomLoadBalancer>(priority_set, config_.common, seed);
    case LbPolicy::kRingHash:
      return std::make_unique<RingHashLoadBalancer>(priority_set, config_.common, config_.ring_hash,
                                                    seed, cache_);
    case LbPolicy::kMaglev:
      return std::make_unique<MaglevLoadBalancer>(priority_set, config_.common, config_.maglev,
                                                  seed, cache_);
  }
  WAYSTONE_BUG("unknown LbPolicy");
  return nullptr;
}

absl::StatusOr<LoadBalancerFactoryPtr> createLoadBalancerFactory(
    const envoy::config::cluster::v3::Cluster& cluster) {
  absl::StatusOr<LbConfig> config = parseLbConfig(cluster);
  if (!config.ok()) {
    return config.status();
  }
  return std::make_shared<const LoadBalancerFactoryImpl>(*config);
}

}  // namespace waystone::upstream::lb
