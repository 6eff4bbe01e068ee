#include "source/upstream/load_balancer/maglev_load_balancer.h"

#include "source/upstream/load_balancer/maglev_table.h"

namespace waystone::upstream::lb {

MaglevLoadBalancer::MaglevLoadBalancer(const PrioritySet& priority_set,
                                       const CommonLbSettings& common,
                                       const MaglevSettings& settings, uint64_t seed,
                                       std::shared_ptr<ConsistentHashTableCache> cache)
    : ThreadAwareLoadBalancerBase(priority_set, common, seed, std::move(cache)),
      settings_(settings) {}

ConsistentHashTableConstSharedPtr MaglevLoadBalancer::buildTable(
    const NormalizedHostWeights& weights, double, double max_weight) const {
  return std::make_shared<const MaglevTable>(weights, max_weight, settings_.table_size,
                                             common_.use_hostname_for_hashing);
}

}  // namespace waystone::upstream::lb
