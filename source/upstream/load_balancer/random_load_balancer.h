#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "source/upstream/load_balancer/zone_aware_load_balancer_base.h"

namespace waystone::upstream::lb {

// RANDOM, weighted: a host is drawn with probability weight / sum(weights) (Envoy's RANDOM
// ignores weights; Waystone's honours them, and is uniform when they are equal).
class RandomLoadBalancer : public ZoneAwareLoadBalancerBase {
 public:
  RandomLoadBalancer(const PrioritySet& priority_set, const CommonLbSettings& common,
                     uint64_t seed);

 private:
  HostConstSharedPtr pickFromSource(uint32_t source, const HostVector& hosts) override;
  void onSourcesReset() override;

  // Per source, built on first use: empty when the weights are equal, else running sums of the
  // weights (binary searched).
  std::vector<std::optional<std::vector<uint64_t>>> cumulative_weights_;
};

}  // namespace waystone::upstream::lb
