#include "source/upstream/load_balancer/random_load_balancer.h"

#include <algorithm>

namespace waystone::upstream::lb {

RandomLoadBalancer::RandomLoadBalancer(const PrioritySet& priority_set,
                                       const CommonLbSettings& common, uint64_t seed)
    : ZoneAwareLoadBalancerBase(priority_set, common, seed) {}

void RandomLoadBalancer::onSourcesReset() {
  cumulative_weights_.clear();
  cumulative_weights_.resize(sourceCount());
}

HostConstSharedPtr RandomLoadBalancer::pickFromSource(uint32_t source, const HostVector& hosts) {
  std::optional<std::vector<uint64_t>>& cumulative = cumulative_weights_[source];
  if (!cumulative.has_value()) {
    cumulative.emplace();
    const bool equal = std::all_of(hosts.begin(), hosts.end(), [&](const HostConstSharedPtr& h) {
      return h->weight() == hosts.front()->weight();
    });
    if (!equal) {
      uint64_t sum = 0;
      for (const HostConstSharedPtr& host : hosts) {
        sum += std::max<uint32_t>(1, host->weight());
        cumulative->push_back(sum);
      }
    }
  }
  if (cumulative->empty()) {
    return hosts[random_.random() % hosts.size()];
  }
  // The first host whose running sum exceeds the draw.
  const uint64_t draw = random_.random() % cumulative->back();
  const auto it = std::upper_bound(cumulative->begin(), cumulative->end(), draw);
  return hosts[it - cumulative->begin()];
}

}  // namespace waystone::upstream::lb
