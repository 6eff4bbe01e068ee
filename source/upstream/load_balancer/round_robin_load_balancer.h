#pragma once

#include "source/upstream/load_balancer/edf_load_balancer_base.h"

namespace waystone::upstream::lb {

// ROUND_ROBIN: plain rotation over equally weighted hosts; smooth weighted round robin (EDF)
// otherwise, so over every cycle of sum(weights) picks each host is chosen `weight` times.
class RoundRobinLoadBalancer : public EdfLoadBalancerBase {
 public:
  RoundRobinLoadBalancer(const PrioritySet& priority_set, const CommonLbSettings& common,
                         uint64_t seed);

 private:
  double hostWeight(const Host& host) const override;
  HostConstSharedPtr unweightedPick(const HostVector& hosts, uint64_t& cursor) override;
};

}  // namespace waystone::upstream::lb
