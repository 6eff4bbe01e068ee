#pragma once

#include <cstdint>
#include <memory>

#include "source/upstream/load_balancer/consistent_hash_table.h"
#include "source/upstream/load_balancer/consistent_hash_table_cache.h"
#include "source/upstream/load_balancer/load_balancer_base.h"

namespace waystone::upstream::lb {

// The base of the hashing policies (RING_HASH, MAGLEV; Envoy's ThreadAwareLoadBalancerBase):
// the request's hash chooses the priority level and then the host through that level's table.
// A level's table covers its healthy hosts (all hosts in panic; its degraded hosts when it has
// no healthy one), weighted by host weight and, under locality-weighted balancing, by locality
// weight. Without a hash the pick is random.
class ThreadAwareLoadBalancerBase : public LoadBalancerBase {
 public:
  HostConstSharedPtr chooseHost(LoadBalancerContext* context) final;

 protected:
  ThreadAwareLoadBalancerBase(const PrioritySet& priority_set, const CommonLbSettings& common,
                              uint64_t seed, std::shared_ptr<ConsistentHashTableCache> cache);

  // One level's table; `weights` is not empty. min/max are over `weights`.
  virtual ConsistentHashTableConstSharedPtr buildTable(const NormalizedHostWeights& weights,
                                                       double min_weight,
                                                       double max_weight) const = 0;

 private:
  void onRefresh() final;
  ConsistentHashTablesConstSharedPtr buildTables() const;

  const std::shared_ptr<ConsistentHashTableCache> cache_;
  ConsistentHashTablesConstSharedPtr tables_;
};

}  // namespace waystone::upstream::lb
