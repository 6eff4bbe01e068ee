#include "source/upstream/load_balancer/thread_aware_load_balancer_base.h"

#include <algorithm>
#include <limits>

namespace waystone::upstream::lb {
namespace {

// Envoy's normalizeHostWeights(): each host's share of `level_share`.
void normalizeHostWeights(const HostVector& hosts, double level_share, NormalizedHostWeights& out,
                          double& min_weight, double& max_weight) {
  uint64_t sum = 0;
  for (const HostConstSharedPtr& host : hosts) {
    sum += std::max<uint32_t>(1, host->weight());
  }
  for (const HostConstSharedPtr& host : hosts) {
    const double weight = std::max<uint32_t>(1, host->weight()) * level_share / sum;
    out.emplace_back(host, weight);
    min_weight = std::min(min_weight, weight);
    max_weight = std::max(max_weight, weight);
  }
}

}  // namespace

ThreadAwareLoadBalancerBase::ThreadAwareLoadBalancerBase(
    const PrioritySet& priority_set, const CommonLbSettings& common, uint64_t seed,
    std::shared_ptr<ConsistentHashTableCache> cache)
    : LoadBalancerBase(priority_set, common, seed), cache_(std::move(cache)) {}

void ThreadAwareLoadBalancerBase::onRefresh() {
  if (cache_ == nullptr) {
    tables_ = buildTables();
    return;
  }
  tables_ = cache_->getOrBuild(priority_set_.id(), viewVersion(), [this] { return buildTables(); });
}

ConsistentHashTablesConstSharedPtr ThreadAwareLoadBalancerBase::buildTables() const {
  auto tables = std::make_shared<ConsistentHashTables>();
  for (size_t p = 0; p < priorityStates().size(); ++p) {
    const PriorityState& state = priorityStates()[p];
    const bool use_all = state.panic;
    const bool use_degraded = !use_all && state.healthy.empty();
    NormalizedHostWeights weights;
    double min_weight = std::numeric_limits<double>::max();
    double max_weight = 0;
    const std::vector<uint32_t>& locality_weights =
        priority_set_.hostSetsPerPriority()[p].localityWeights();
    if (common_.locality_weighted && !locality_weights.empty()) {
      // Envoy's normalizeLocalityWeights(): a locality's share is its weight over the sum; a
      // locality of weight 0 (or with no host to serve) gets none.
      const std::vector<HostVector>& per_locality =
          use_all ? state.hosts_per_locality
                  : (use_degraded ? state.degraded_per_locality : state.healthy_per_locality);
      uint64_t sum = 0;
      for (size_t i = 0; i < per_locality.size(); ++i) {
        if (!per_locality[i].empty()) {
          sum += locality_weights[i];
        }
      }
      for (size_t i = 0; sum > 0 && i < per_locality.size(); ++i) {
        if (!per_locality[i].empty() && locality_weights[i] > 0) {
          normalizeHostWeights(per_locality[i], static_cast<double>(locality_weights[i]) / sum,
                               weights, min_weight, max_weight);
        }
      }
    } else {
      normalizeHostWeights(use_all ? state.hosts : (use_degraded ? state.degraded : state.healthy),
                           1.0, weights, min_weight, max_weight);
    }
    tables->push_back(weights.empty() ? nullptr : buildTable(weights, min_weight, max_weight));
  }
  return tables;
}

HostConstSharedPtr ThreadAwareLoadBalancerBase::chooseHost(LoadBalancerContext* context) {
  refreshIfStale();
  if (tables_ == nullptr || tables_->empty()) {
    return nullptr;
  }
  // computeHashKey() may be computed on demand: ask once.
  std::optional<uint64_t> hash;
  if (context != nullptr) {
    hash = context->computeHashKey();
  }
  const uint64_t h = hash.has_value() ? *hash : random_.random();
  const uint32_t priority = choosePriority(h).first;
  if (priorityStates()[priority].panic && common_.fail_traffic_on_panic) {
    return nullptr;
  }
  const ConsistentHashTableConstSharedPtr& table = (*tables_)[priority];
  if (table == nullptr) {
    return nullptr;
  }
  const uint32_t max_attempts = context != nullptr ? context->hostSelectionRetryCount() + 1 : 1;
  HostConstSharedPtr host;
  for (uint32_t attempt = 0; attempt < max_attempts; ++attempt) {
    host = table->chooseHost(h, attempt);
    if (host == nullptr || context == nullptr || !context->shouldSelectAnotherHost(*host)) {
      return host;
    }
  }
  return host;
}

}  // namespace waystone::upstream::lb
