#pragma once

#include <memory>

#include "source/upstream/load_balancer/thread_aware_load_balancer_base.h"

namespace waystone::upstream::lb {

// RING_HASH: consistent hashing on a ketama ring (RingHashTable) per priority level.
class RingHashLoadBalancer : public ThreadAwareLoadBalancerBase {
 public:
  // `cache` (may be null) shares the rings between the workers of one cluster.
  RingHashLoadBalancer(const PrioritySet& priority_set, const CommonLbSettings& common,
                       const RingHashSettings& settings, uint64_t seed,
                       std::shared_ptr<ConsistentHashTableCache> cache);

 private:
  ConsistentHashTableConstSharedPtr buildTable(const NormalizedHostWeights& weights,
                                               double min_weight, double max_weight) const override;

  const RingHashSettings settings_;
};

}  // namespace waystone::upstream::lb
