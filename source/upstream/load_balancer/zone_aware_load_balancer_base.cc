#include "source/upstream/load_balancer/zone_aware_load_balancer_base.h"

namespace waystone::upstream::lb {

ZoneAwareLoadBalancerBase::ZoneAwareLoadBalancerBase(const PrioritySet& priority_set,
                                                     const CommonLbSettings& common, uint64_t seed)
    : LoadBalancerBase(priority_set, common, seed) {}

void ZoneAwareLoadBalancerBase::onRefresh() {
  source_hosts_.clear();
  first_source_.clear();
  for (const PriorityState& state : priorityStates()) {
    first_source_.push_back(static_cast<uint32_t>(source_hosts_.size()));
    source_hosts_.push_back(&state.hosts);
    source_hosts_.push_back(&state.healthy);
    source_hosts_.push_back(&state.degraded);
    for (const HostVector& hosts : state.healthy_per_locality) {
      source_hosts_.push_back(&hosts);
    }
    for (const HostVector& hosts : state.degraded_per_locality) {
      source_hosts_.push_back(&hosts);
    }
  }
  onSourcesReset();
}

HostConstSharedPtr ZoneAwareLoadBalancerBase::chooseHost(LoadBalancerContext* context) {
  const uint32_t max_attempts = context != nullptr ? context->hostSelectionRetryCount() + 1 : 1;
  HostConstSharedPtr host;
  for (uint32_t attempt = 0; attempt < max_attempts; ++attempt) {
    host = chooseHostOnce();
    if (host == nullptr || context == nullptr || !context->shouldSelectAnotherHost(*host)) {
      return host;
    }
  }
  // Every attempt was rejected: the last host beats none.
  return host;
}

HostConstSharedPtr ZoneAwareLoadBalancerBase::chooseHostOnce() {
  refreshIfStale();
  const std::optional<uint32_t> source = hostSourceToUse(random_.random());
  if (!source.has_value()) {
    return nullptr;
  }
  const HostVector& hosts = *source_hosts_[*source];
  if (hosts.empty()) {
    return nullptr;
  }
  return pickFromSource(*source, hosts);
}

std::optional<uint32_t> ZoneAwareLoadBalancerBase::hostSourceToUse(uint64_t hash) {
  if (priorityStates().empty()) {
    return std::nullopt;
  }
  const auto [priority, availability] = choosePriority(hash);
  const PriorityState& state = priorityStates()[priority];
  const uint32_t first = first_source_[priority];
  if (state.panic) {
    if (common_.fail_traffic_on_panic) {
      return std::nullopt;
    }
    return first + kAll;
  }
  const bool healthy = availability == HostAvailability::kHealthy;
  if (common_.locality_weighted) {
    const std::optional<uint32_t> locality = chooseLocality(priority, availability);
    if (locality.has_value()) {
      const uint32_t localities = static_cast<uint32_t>(state.healthy_per_locality.size());
      return first + kFixedKinds + (healthy ? 0 : localities) + *locality;
    }
  }
  return first + (healthy ? kHealthy : kDegraded);
}

}  // namespace waystone::upstream::lb
