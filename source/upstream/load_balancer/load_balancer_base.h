#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "source/upstream/load_balancer/edf_scheduler.h"
#include "source/upstream/load_balancer/lb_config.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/priority_set.h"
#include "source/upstream/load_balancer/random_generator.h"

namespace waystone::upstream::lb {

// Which hosts of the chosen priority should serve: the healthy ones, or (when the healthy ones
// of every level cannot carry the load) the degraded ones.
enum class HostAvailability { kHealthy, kDegraded };

// What every policy shares (Envoy's LoadBalancerBase): this worker's view of the priority set's
// health, the load each priority level gets (overprovisioning, spill-over to the next level),
// panic mode, and locality choice. The view is rebuilt when the priority set's health version
// moves, checked once per pick.
class LoadBalancerBase : public LoadBalancer {
 protected:
  // One priority level as this worker last saw it.
  struct PriorityState {
    HostVector hosts;
    HostVector healthy;
    HostVector degraded;
    // Indexed like HostSet::localities().
    std::vector<HostVector> hosts_per_locality;
    std::vector<HostVector> healthy_per_locality;
    std::vector<HostVector> degraded_per_locality;
    // Locality-weighted balancing only, and only when some locality has an effective weight:
    // EDF over locality indexes, weights as Envoy's effectiveLocalityWeight().
    std::optional<EdfScheduler<uint32_t>> healthy_locality_scheduler;
    std::vector<double> healthy_locality_weights;
    std::optional<EdfScheduler<uint32_t>> degraded_locality_scheduler;
    std::vector<double> degraded_locality_weights;
    // Too few healthy hosts: every host of the level serves.
    bool panic = false;
  };

  LoadBalancerBase(const PrioritySet& priority_set, const CommonLbSettings& common, uint64_t seed);

  // Rebuilds the view if the priority set's health changed since the last pick, then calls
  // onRefresh(). Costs one atomic load otherwise.
  void refreshIfStale();
  // Subclasses drop whatever they derived from the previous view.
  virtual void onRefresh() = 0;

  // Envoy's choosePriority(): `hash % 100` falls into one level's healthy load, or failing
  // that its degraded load.
  std::pair<uint32_t, HostAvailability> choosePriority(uint64_t hash) const;
  // The next locality of `priority` by weight; nullopt without locality-weighted balancing or
  // when no locality has weight.
  std::optional<uint32_t> chooseLocality(uint32_t priority, HostAvailability availability);

  const std::vector<PriorityState>& priorityStates() const { return states_; }
  // The health version the current view was built from.
  uint64_t viewVersion() const { return version_; }

  // Per level, summing to 100 over both vectors (tests read them).
  const std::vector<uint32_t>& healthyPriorityLoad() const { return healthy_load_; }
  const std::vector<uint32_t>& degradedPriorityLoad() const { return degraded_load_; }

  const PrioritySet& priority_set_;
  const CommonLbSettings common_;
  RandomGenerator random_;

 private:
  void rebuildView();
  void buildLocalitySchedulers(const HostSet& host_set, PriorityState& state);
  void computeLoads(const std::vector<uint32_t>& health, const std::vector<uint32_t>& degraded);
  bool isInPanic(const PriorityState& state) const;
  void computeLoadInTotalPanic();

  std::vector<PriorityState> states_;
  std::vector<uint32_t> healthy_load_;
  std::vector<uint32_t> degraded_load_;
  bool built_ = false;
  uint64_t version_ = 0;
};

}  // namespace waystone::upstream::lb
