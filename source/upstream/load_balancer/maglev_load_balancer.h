#pragma once

#include <memory>

#include "source/upstream/load_balancer/thread_aware_load_balancer_base.h"

namespace waystone::upstream::lb {

// MAGLEV: consistent hashing through a Maglev lookup table (MaglevTable) per priority level.
class MaglevLoadBalancer : public ThreadAwareLoadBalancerBase {
 public:
  // `cache` (may be null) shares the tables between the workers of one cluster.
  MaglevLoadBalancer(const PrioritySet& priority_set, const CommonLbSettings& common,
                     const MaglevSettings& settings, uint64_t seed,
                     std::shared_ptr<ConsistentHashTableCache> cache);

 private:
  ConsistentHashTableConstSharedPtr buildTable(const NormalizedHostWeights& weights,
                                               double min_weight, double max_weight) const override;

  const MaglevSettings settings_;
};

}  // namespace waystone::upstream::lb
