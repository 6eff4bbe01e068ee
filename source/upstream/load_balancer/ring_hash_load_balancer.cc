#include "source/upstream/load_balancer/ring_hash_load_balancer.h"

#include "source/upstream/load_balancer/ring_hash_table.h"

namespace waystone::upstream::lb {

RingHashLoadBalancer::RingHashLoadBalancer(const PrioritySet& priority_set,
                                           const CommonLbSettings& common,
                                           const RingHashSettings& settings, uint64_t seed,
                                           std::shared_ptr<ConsistentHashTableCache> cache)
    : ThreadAwareLoadBalancerBase(priority_set, common, seed, std::move(cache)),
      settings_(settings) {}

ConsistentHashTableConstSharedPtr RingHashLoadBalancer::buildTable(
    const NormalizedHostWeights& weights, double min_weight, double) const {
  return std::make_shared<const RingHashTable>(weights, min_weight, settings_,
                                               common_.use_hostname_for_hashing);
}

}  // namespace waystone::upstream::lb
