#include "source/upstream/load_balancer/edf_load_balancer_base.h"

namespace waystone::upstream::lb {

EdfLoadBalancerBase::EdfLoadBalancerBase(const PrioritySet& priority_set,
                                         const CommonLbSettings& common, uint64_t seed)
    : ZoneAwareLoadBalancerBase(priority_set, common, seed), seed_(seed) {}

void EdfLoadBalancerBase::onSourcesReset() {
  sources_.clear();
  sources_.resize(sourceCount());
}

void EdfLoadBalancerBase::initialize(SourceState& state, const HostVector& hosts) {
  state.initialized = true;
  state.cursor = seed_;
  bool equal = true;
  for (const HostConstSharedPtr& host : hosts) {
    if (host->weight() != hosts.front()->weight()) {
      equal = false;
      break;
    }
  }
  if (equal) {
    return;
  }
  state.scheduler.emplace();
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    state.scheduler->add(hostWeight(*hosts[i]), i);
  }
  const auto weight_of = [this, &hosts](uint32_t i) { return hostWeight(*hosts[i]); };
  for (uint64_t i = 0; i < seed_ % hosts.size(); ++i) {
    state.scheduler->pickAndAdd(weight_of);
  }
}

HostConstSharedPtr EdfLoadBalancerBase::pickFromSource(uint32_t source, const HostVector& hosts) {
  SourceState& state = sources_[source];
  if (!state.initialized) {
    initialize(state, hosts);
  }
  if (!state.scheduler.has_value()) {
    return unweightedPick(hosts, state.cursor);
  }
  const std::optional<uint32_t> index =
      state.scheduler->pickAndAdd([this, &hosts](uint32_t i) { return hostWeight(*hosts[i]); });
  return index.has_value() ? hosts[*index] : nullptr;
}

}  // namespace waystone::upstream::lb
