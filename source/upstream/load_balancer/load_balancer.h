#pragma once

#include <cstdint>
#include <memory>

#include "source/upstream/host.h"
#include "source/upstream/load_balancer/load_balancer_context.h"

namespace waystone::upstream::lb {

class PrioritySet;

// Picks hosts for one cluster on one worker. An instance is owned and used by a single thread:
// its state (cursors, schedulers, random source) is not synchronised.
class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;

  // nullptr when no host can take the request (no host at all, or none healthy while panic mode
  // is disabled or fails traffic). `context` may be null.
  virtual HostConstSharedPtr chooseHost(LoadBalancerContext* context) = 0;
};

using LoadBalancerPtr = std::unique_ptr<LoadBalancer>;

// Made once per cluster from its config (createLoadBalancerFactory), shared by all workers.
// Thread-safe: create() may be called from any thread.
class LoadBalancerFactory {
 public:
  virtual ~LoadBalancerFactory() = default;

  // A new load balancer over `priority_set` for the calling worker. `priority_set` must outlive
  // the returned load balancer (the cluster holds both). `seed` makes the instance's random
  // choices and starting points reproducible; give each worker a different one.
  virtual LoadBalancerPtr create(const PrioritySet& priority_set, uint64_t seed) const = 0;
};

using LoadBalancerFactoryPtr = std::shared_ptr<const LoadBalancerFactory>;

}  // namespace waystone::upstream::lb
