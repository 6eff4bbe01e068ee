#pragma once

#include "source/upstream/load_balancer/edf_load_balancer_base.h"

namespace waystone::upstream::lb {

// LEAST_REQUEST, read from each host's stats().rq_active. Equal weights: the best of
// `choice_count` hosts drawn at random (power of two choices by default). Unequal weights: EDF
// with weight / (rq_active + 1)^active_request_bias, recomputed each time a host is rescheduled.
class LeastRequestLoadBalancer : public EdfLoadBalancerBase {
 public:
  LeastRequestLoadBalancer(const PrioritySet& priority_set, const CommonLbSettings& common,
                           const LeastRequestSettings& settings, uint64_t seed);

 private:
  double hostWeight(const Host& host) const override;
  HostConstSharedPtr unweightedPick(const HostVector& hosts, uint64_t& cursor) override;

  const uint32_t choice_count_;
  const double active_request_bias_;
};

}  // namespace waystone::upstream::lb
