#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "source/upstream/load_balancer/load_balancer_base.h"

namespace waystone::upstream::lb {

// The base of the per-pick policies (ROUND_ROBIN, LEAST_REQUEST, RANDOM), Envoy's
// ZoneAwareLoadBalancerBase without zone-aware routing (which needs a local cluster): each pick
// chooses a priority level by load, then a host list (all hosts in panic, a locality's hosts
// under locality-weighted balancing, else the healthy or degraded hosts), then a host from that
// list through the policy. A rejected pick (shouldSelectAnotherHost) starts over.
class ZoneAwareLoadBalancerBase : public LoadBalancerBase {
 public:
  HostConstSharedPtr chooseHost(LoadBalancerContext* context) final;

 protected:
  ZoneAwareLoadBalancerBase(const PrioritySet& priority_set, const CommonLbSettings& common,
                            uint64_t seed);

  // Picks from `hosts` (never empty), the list of source `source`: a dense index, stable until
  // the next onSourcesReset(), that policies use to keep per-list state (cursors, schedulers).
  virtual HostConstSharedPtr pickFromSource(uint32_t source, const HostVector& hosts) = 0;
  // The view changed: sourceCount() sources now exist and per-source state must be dropped.
  virtual void onSourcesReset() = 0;

  uint32_t sourceCount() const { return static_cast<uint32_t>(source_hosts_.size()); }

 private:
  // Source layout per level: all, healthy, degraded, then each locality's healthy hosts, then
  // each locality's degraded hosts.
  enum SourceKind : uint32_t { kAll = 0, kHealthy = 1, kDegraded = 2, kFixedKinds = 3 };

  void onRefresh() final;
  HostConstSharedPtr chooseHostOnce();
  std::optional<uint32_t> hostSourceToUse(uint64_t hash);

  std::vector<const HostVector*> source_hosts_;
  std::vector<uint32_t> first_source_;  // per level
};

}  // namespace waystone::upstream::lb
