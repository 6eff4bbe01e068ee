#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "source/upstream/load_balancer/edf_scheduler.h"
#include "source/upstream/load_balancer/zone_aware_load_balancer_base.h"

namespace waystone::upstream::lb {

// ROUND_ROBIN and LEAST_REQUEST (Envoy's EdfLoadBalancerBase): when a host list has unequal
// weights, an EDF scheduler over it with hostWeight(); when all weights are equal, the policy's
// cheaper unweighted pick. Schedulers are built on first use of a list after each view change
// and start `seed % size` picks in, so that workers do not all begin with the same host.
class EdfLoadBalancerBase : public ZoneAwareLoadBalancerBase {
 protected:
  EdfLoadBalancerBase(const PrioritySet& priority_set, const CommonLbSettings& common,
                      uint64_t seed);

  // The weight the scheduler gives `host` now (> 0).
  virtual double hostWeight(const Host& host) const = 0;
  // A pick among equally weighted `hosts` (never empty). `cursor` belongs to the list and starts
  // at the seed.
  virtual HostConstSharedPtr unweightedPick(const HostVector& hosts, uint64_t& cursor) = 0;

  const uint64_t seed_;

 private:
  struct SourceState {
    bool initialized = false;
    std::optional<EdfScheduler<uint32_t>> scheduler;  // set iff the weights differ
    uint64_t cursor = 0;
  };

  HostConstSharedPtr pickFromSource(uint32_t source, const HostVector& hosts) final;
  void onSourcesReset() final;
  void initialize(SourceState& state, const HostVector& hosts);

  std::vector<SourceState> sources_;
};

}  // namespace waystone::upstream::lb
