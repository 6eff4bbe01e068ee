#include "source/upstream/load_balancer/round_robin_load_balancer.h"

#include <algorithm>

namespace waystone::upstream::lb {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(const PrioritySet& priority_set,
                                               const CommonLbSettings& common, uint64_t seed)
    : EdfLoadBalancerBase(priority_set, common, seed) {}

double RoundRobinLoadBalancer::hostWeight(const Host& host) const {
  // validate.proto makes weights >= 1; guard anyway, EDF needs a positive weight.
  return std::max<uint32_t>(1, host.weight());
}

HostConstSharedPtr RoundRobinLoadBalancer::unweightedPick(const HostVector& hosts,
                                                          uint64_t& cursor) {
  return hosts[cursor++ % hosts.size()];
}

}  // namespace waystone::upstream::lb
