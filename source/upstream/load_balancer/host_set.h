#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"

#include "source/upstream/host.h"
#include "source/upstream/load_balancer/host_health.h"

namespace waystone::upstream::lb {

// Envoy's default overprovisioning factor, in percent (1.4).
constexpr uint32_t kDefaultOverprovisioningFactor = 140;

// The hosts of one priority level, grouped by locality. Membership, weights and EDS health are
// immutable; only the outlier-ejection flags (owned by the PrioritySet) change at run time.
// Built by PrioritySet::Builder.
class HostSet {
 public:
  uint32_t priority() const { return priority_; }
  // Percent: 140 means a level counts as fully available with 1/1.4 of its hosts healthy.
  uint32_t overprovisioningFactor() const { return overprovisioning_factor_; }
  // load_assignment.policy.weighted_priority_health: availability by host weight, not count.
  bool weightedPriorityHealth() const { return weighted_priority_health_; }

  const HostVector& hosts() const { return hosts_; }
  // Localities in first-seen order, with their load_balancing_weight (0 when unset, as in
  // Envoy: such a locality takes no traffic under locality-weighted balancing).
  const std::vector<envoy::config::core::v3::Locality>& localities() const { return localities_; }
  const std::vector<uint32_t>& localityWeights() const { return locality_weights_; }
  // Index into localities() of hosts()[i].
  uint32_t hostLocality(size_t i) const { return host_localities_[i]; }

  HostHealth edsHealth(size_t i) const { return eds_health_[i]; }
  bool ejected(size_t i) const { return ejected_[i].load(std::memory_order_relaxed); }
  // EDS health, made unhealthy by an outlier ejection.
  HostHealth health(size_t i) const { return ejected(i) ? HostHealth::kUnhealthy : eds_health_[i]; }

 private:
  friend class PrioritySet;

  uint32_t priority_ = 0;
  uint32_t overprovisioning_factor_ = kDefaultOverprovisioningFactor;
  bool weighted_priority_health_ = false;
  HostVector hosts_;
  std::vector<uint32_t> host_localities_;
  std::vector<HostHealth> eds_health_;
  std::vector<envoy::config::core::v3::Locality> localities_;
  std::vector<uint32_t> locality_weights_;
  // hosts_.size() flags inside the owning PrioritySet's array (which outlives this object).
  const std::atomic<bool>* ejected_ = nullptr;
};

}  // namespace waystone::upstream::lb
