#include "source/upstream/load_balancer/load_balancer_base.h"

#include <algorithm>
#include <numeric>

namespace waystone::upstream::lb {
namespace {

// Envoy's distributeLoad(): gives each level its share of `total_load`, in priority order, so
// that a level short of hosts spills what it cannot carry to the next one. Returns the first
// level with any availability (-1 if none) and the load left over by rounding.
std::pair<int32_t, uint32_t> distributeLoad(std::vector<uint32_t>& load,
                                            const std::vector<uint32_t>& availability,
                                            uint32_t total_load,
                                            uint32_t normalized_total_availability) {
  int32_t first_available = -1;
  for (size_t i = 0; i < availability.size(); ++i) {
    if (first_available < 0 && availability[i] > 0) {
      first_available = static_cast<int32_t>(i);
    }
    load[i] = std::min<uint32_t>(total_load, availability[i] * 100 / normalized_total_availability);
    total_load -= load[i];
  }
  return {first_available, total_load};
}

}  // namespace

LoadBalancerBase::LoadBalancerBase(const PrioritySet& priority_set, const CommonLbSettings& common,
                                   uint64_t seed)
    : priority_set_(priority_set), common_(common), random_(seed) {}

void LoadBalancerBase::refreshIfStale() {
  // Read the version before the flags (acquire): a flag changed after this load bumps the
  // version again and the next pick rebuilds.
  const uint64_t version = priority_set_.healthVersion();
  if (built_ && version == version_) {
    return;
  }
  built_ = true;
  version_ = version;
  rebuildView();
  onRefresh();
}

void LoadBalancerBase::rebuildView() {
  const std::vector<HostSet>& host_sets = priority_set_.hostSetsPerPriority();
  const size_t levels = host_sets.size();
  states_.clear();
  states_.resize(levels);
  std::vector<uint32_t> health(levels, 0);
  std::vector<uint32_t> degraded_health(levels, 0);
  for (size_t p = 0; p < levels; ++p) {
    const HostSet& host_set = host_sets[p];
    PriorityState& state = states_[p];
    const size_t locality_count = host_set.localities().size();
    state.hosts_per_locality.resize(locality_count);
    state.healthy_per_locality.resize(locality_count);
    state.degraded_per_locality.resize(locality_count);
    uint64_t total_weight = 0;
    uint64_t healthy_weight = 0;
    uint64_t degraded_weight = 0;
    for (size_t i = 0; i < host_set.hosts().size(); ++i) {
      const HostConstSharedPtr& host = host_set.hosts()[i];
      const uint32_t locality = host_set.hostLocality(i);
      const uint64_t weight = host_set.weightedPriorityHealth() ? host->weight() : 1;
      total_weight += weight;
      state.hosts.push_back(host);
      state.hosts_per_locality[locality].push_back(host);
      switch (host_set.health(i)) {
        case HostHealth::kHealthy:
          healthy_weight += weight;
          state.healthy.push_back(host);
          state.healthy_per_locality[locality].push_back(host);
          break;
        case HostHealth::kDegraded:
          degraded_weight += weight;
          state.degraded.push_back(host);
          state.degraded_per_locality[locality].push_back(host);
          break;
        case HostHealth::kUnhealthy:
          break;
      }
    }
    // A level's availability is its healthy share times the overprovisioning factor, capped at
    // 100: with 1.4, a level with 72% of its hosts healthy still takes all of its load.
    if (total_weight > 0) {
      const uint64_t factor = host_set.overprovisioningFactor();
      health[p] =
          static_cast<uint32_t>(std::min<uint64_t>(100, factor * healthy_weight / total_weight));
      degraded_health[p] =
          static_cast<uint32_t>(std::min<uint64_t>(100, factor * degraded_weight / total_weight));
    }
    if (common_.locality_weighted) {
      buildLocalitySchedulers(host_set, state);
    }
  }
  computeLoads(health, degraded_health);
}

void LoadBalancerBase::buildLocalitySchedulers(const HostSet& host_set, PriorityState& state) {
  // Envoy's effectiveLocalityWeight(): the configured weight scaled by the locality's own
  // availability (eligible / all hosts, times the overprovisioning factor, capped at 1).
  const auto build = [&](const std::vector<HostVector>& eligible,
                         std::optional<EdfScheduler<uint32_t>>& scheduler,
                         std::vector<double>& weights) {
    weights.assign(eligible.size(), 0.0);
    scheduler.reset();
    for (size_t i = 0; i < eligible.size(); ++i) {
      const size_t all = state.hosts_per_locality[i].size();
      if (all == 0 || eligible[i].empty()) {
        continue;
      }
      const double ratio = static_cast<double>(eligible[i].size()) / all;
      const double availability = std::min(1.0, host_set.overprovisioningFactor() / 100.0 * ratio);
      weights[i] = host_set.localityWeights()[i] * availability;
      if (weights[i] > 0) {
        if (!scheduler.has_value()) {
          scheduler.emplace();
        }
        scheduler->add(weights[i], static_cast<uint32_t>(i));
      }
    }
  };
  build(state.healthy_per_locality, state.healthy_locality_scheduler,
        state.healthy_locality_weights);
  build(state.degraded_per_locality, state.degraded_locality_scheduler,
        state.degraded_locality_weights);
}

void LoadBalancerBase::computeLoads(const std::vector<uint32_t>& health,
                                    const std::vector<uint32_t>& degraded_health) {
  const size_t levels = states_.size();
  healthy_load_.assign(levels, 0);
  degraded_load_.assign(levels, 0);
  if (levels == 0) {
    return;
  }
  const uint32_t normalized_total_availability = std::min<uint32_t>(
      100, std::accumulate(health.begin(), health.end(), 0u) +
               std::accumulate(degraded_health.begin(), degraded_health.end(), 0u));
  if (normalized_total_availability > 0) {
    // Healthy hosts first, in priority order; what they cannot carry goes to degraded hosts;
    // rounding leftovers go to the first level that has any.
    const auto [first_healthy, remaining] =
        distributeLoad(healthy_load_, health, 100, normalized_total_availability);
    const auto [first_degraded, leftover] =
        distributeLoad(degraded_load_, degraded_health, remaining, normalized_total_availability);
    if (leftover != 0) {
      if (first_healthy >= 0) {
        healthy_load_[first_healthy] += leftover;
      } else if (first_degraded >= 0) {
        degraded_load_[first_degraded] += leftover;
      }
    }
  }

  const uint32_t threshold = std::min<uint32_t>(100, common_.healthy_panic_threshold);
  if (threshold == 0 && normalized_total_availability == 0) {
    // Panic disabled and nothing available: the loads must still add up to 100, so level 0
    // takes it all and finds no healthy host.
    healthy_load_[0] = 100;
    return;
  }
  for (PriorityState& state : states_) {
    state.panic = normalized_total_availability == 0 ? true : isInPanic(state);
  }
  if (normalized_total_availability == 0) {
    computeLoadInTotalPanic();
  }
}

bool LoadBalancerBase::isInPanic(const PriorityState& state) const {
  const uint32_t threshold = std::min<uint32_t>(100, common_.healthy_panic_threshold);
  const size_t host_count = state.hosts.size();
  const double healthy_percent = host_count == 0 ? 0.0 : 100.0 * state.healthy.size() / host_count;
  const double degraded_percent =
      host_count == 0 ? 0.0 : 100.0 * state.degraded.size() / host_count;
  return healthy_percent + degraded_percent < threshold;
}

void LoadBalancerBase::computeLoadInTotalPanic() {
  // Nothing is available anywhere: spread the load by the number of hosts per level, healthy or
  // not, so every host of the cluster serves.
  size_t total_hosts = 0;
  for (const PriorityState& state : states_) {
    total_hosts += state.hosts.size();
  }
  if (total_hosts == 0) {
    healthy_load_[0] = 100;
    return;
  }
  uint32_t total_load = 100;
  int32_t first_non_empty = -1;
  for (size_t i = 0; i < states_.size(); ++i) {
    const size_t count = states_[i].hosts.size();
    if (first_non_empty < 0 && count != 0) {
      first_non_empty = static_cast<int32_t>(i);
    }
    healthy_load_[i] = static_cast<uint32_t>(100 * count / total_hosts);
    degraded_load_[i] = 0;
    total_load -= healthy_load_[i];
  }
  healthy_load_[first_non_empty] += total_load;
}

std::pair<uint32_t, HostAvailability> LoadBalancerBase::choosePriority(uint64_t hash) const {
  const uint64_t point = hash % 100 + 1;
  uint64_t aggregate = 0;
  for (size_t p = 0; p < healthy_load_.size(); ++p) {
    aggregate += healthy_load_[p];
    if (point <= aggregate) {
      return {static_cast<uint32_t>(p), HostAvailability::kHealthy};
    }
  }
  for (size_t p = 0; p < degraded_load_.size(); ++p) {
    aggregate += degraded_load_[p];
    if (point <= aggregate) {
      return {static_cast<uint32_t>(p), HostAvailability::kDegraded};
    }
  }
  // Unreachable while the loads add up to 100 (they always do once a view exists).
  return {0, HostAvailability::kHealthy};
}

std::optional<uint32_t> LoadBalancerBase::chooseLocality(uint32_t priority,
                                                         HostAvailability availability) {
  PriorityState& state = states_[priority];
  const bool healthy = availability == HostAvailability::kHealthy;
  std::optional<EdfScheduler<uint32_t>>& scheduler =
      healthy ? state.healthy_locality_scheduler : state.degraded_locality_scheduler;
  if (!scheduler.has_value()) {
    return std::nullopt;
  }
  const std::vector<double>& weights =
      healthy ? state.healthy_locality_weights : state.degraded_locality_weights;
  return scheduler->pickAndAdd([&weights](uint32_t locality) { return weights[locality]; });
}

}  // namespace waystone::upstream::lb
