#include "source/upstream/load_balancer/least_request_load_balancer.h"

#include <algorithm>
#include <cmath>

namespace waystone::upstream::lb {

LeastRequestLoadBalancer::LeastRequestLoadBalancer(const PrioritySet& priority_set,
                                                   const CommonLbSettings& common,
                                                   const LeastRequestSettings& settings,
                                                   uint64_t seed)
    : EdfLoadBalancerBase(priority_set, common, seed),
      choice_count_(std::max<uint32_t>(1, settings.choice_count)),
      active_request_bias_(settings.active_request_bias) {}

double LeastRequestLoadBalancer::hostWeight(const Host& host) const {
  const double weight = std::max<uint32_t>(1, host.weight());
  if (active_request_bias_ == 0.0) {
    return weight;
  }
  const double active =
      static_cast<double>(host.stats().rq_active.load(std::memory_order_relaxed)) + 1.0;
  // The common case avoids pow().
  if (active_request_bias_ == 1.0) {
    return weight / active;
  }
  return weight / std::pow(active, active_request_bias_);
}

HostConstSharedPtr LeastRequestLoadBalancer::unweightedPick(const HostVector& hosts, uint64_t&) {
  const HostConstSharedPtr* candidate = nullptr;
  uint64_t candidate_active = 0;
  for (uint32_t choice = 0; choice < choice_count_; ++choice) {
    const HostConstSharedPtr& sampled = hosts[random_.random() % hosts.size()];
    const uint64_t sampled_active = sampled->stats().rq_active.load(std::memory_order_relaxed);
    if (candidate == nullptr || sampled_active < candidate_active) {
      candidate = &sampled;
      candidate_active = sampled_active;
    }
  }
  return *candidate;
}

}  // namespace waystone::upstream::lb
